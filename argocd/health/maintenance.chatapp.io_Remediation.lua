-- Argo CD health of a Remediation (maintenance.chatapp.io/v1alpha1).
-- Succeeded -> Healthy; in flight -> Progressing; waiting for a human, a window or the backlog -> Suspended;
-- every other terminal phase -> Degraded (a human should look).
local hs = {}

local progressing = {
  Proposed = true, Approved = true, Executing = true, Verifying = true, RollingBack = true,
}
local suspended = {
  AwaitingApproval = true, Scheduled = true, Backlog = true, Paused = true,
}
local degraded = {
  RolledBack = true, Failed = true, Rejected = true, Expired = true, Escalated = true, Terminated = true,
}

local status = obj.status
if status == nil or status.phase == nil then
  hs.status = "Progressing"
  hs.message = "Waiting for the operator to evaluate the remediation"
  return hs
end

local phase = status.phase
local message = phase
if status.message ~= nil and status.message ~= "" then
  message = phase .. ": " .. status.message
end
hs.message = message

if phase == "Succeeded" then
  hs.status = "Healthy"
elseif progressing[phase] then
  hs.status = "Progressing"
elseif suspended[phase] then
  hs.status = "Suspended"
elseif degraded[phase] then
  hs.status = "Degraded"
else
  hs.status = "Unknown"
  hs.message = "Unexpected phase " .. tostring(phase)
end
return hs
