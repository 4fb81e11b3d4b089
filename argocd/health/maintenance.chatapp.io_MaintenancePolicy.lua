-- Argo CD health of a MaintenancePolicy (maintenance.chatapp.io/v1alpha1).
-- Active with Ready=True -> Healthy; Suspended -> Suspended; Degraded or Error -> Degraded;
-- no status yet, a stale observedGeneration, or Active without Ready=True -> Progressing.
local hs = {}

local function condition(status, ctype)
  if status.conditions == nil then
    return nil
  end
  for _, c in ipairs(status.conditions) do
    if c.type == ctype then
      return c
    end
  end
  return nil
end

local function describe(c, fallback)
  if c ~= nil and c.message ~= nil and c.message ~= "" then
    return c.message
  end
  if c ~= nil and c.reason ~= nil and c.reason ~= "" then
    return c.reason
  end
  return fallback
end

local status = obj.status
if status == nil or status.phase == nil then
  if obj.spec ~= nil and obj.spec.suspend == true then
    hs.status = "Suspended"
    hs.message = "Policy is suspended"
    return hs
  end
  hs.status = "Progressing"
  hs.message = "Waiting for the operator to handle the policy"
  return hs
end

local ready = condition(status, "Ready")
local phase = status.phase

if phase == "Suspended" then
  hs.status = "Suspended"
  hs.message = describe(ready, "Policy is suspended")
  return hs
end
if phase == "Degraded" or phase == "Error" then
  hs.status = "Degraded"
  hs.message = phase .. ": " .. describe(ready, "see status.conditions")
  return hs
end
if phase == "Active" then
  local generation = obj.metadata ~= nil and obj.metadata.generation or nil
  if generation ~= nil and status.observedGeneration ~= nil and status.observedGeneration < generation then
    hs.status = "Progressing"
    hs.message = "Waiting for the operator to observe generation " .. tostring(generation)
    return hs
  end
  if ready ~= nil and ready.status == "True" then
    hs.status = "Healthy"
    hs.message = describe(ready, "Policy is active")
    return hs
  end
  hs.status = "Progressing"
  hs.message = "Active, not Ready yet: " .. describe(ready, "no Ready condition")
  return hs
end

hs.status = "Unknown"
hs.message = "Unexpected phase " .. tostring(phase)
return hs
