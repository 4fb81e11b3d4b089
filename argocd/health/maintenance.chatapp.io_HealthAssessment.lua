-- Argo CD health of a HealthAssessment (maintenance.chatapp.io/v1alpha1).
-- Pending/Running or no status -> Progressing; Completed and healthy -> Healthy;
-- Completed with issues, Inconclusive (not enough data to judge: fix the indicators or Prometheus)
-- and Failed -> Degraded. Inconclusive is Degraded rather than Unknown because Unknown ranks worst in
-- Argo CD's aggregation and says "the health check itself failed", which is not the case.
local hs = {}

local status = obj.status
if status == nil or status.phase == nil then
  hs.status = "Progressing"
  hs.message = "Waiting for the operator to run the assessment"
  return hs
end

local phase = status.phase
local issues = 0
if status.issues ~= nil then
  issues = #status.issues
end

local function score()
  if status.overallScore ~= nil then
    return string.format("score %.1f/10", status.overallScore)
  end
  return "no score"
end

local function worst_severity()
  local rank = { critical = 4, high = 3, medium = 2, low = 1 }
  local worst, worst_rank = nil, 0
  for _, issue in ipairs(status.issues or {}) do
    local sev = issue.severity
    if sev ~= nil then
      local r = rank[string.lower(sev)] or 0
      if r > worst_rank then
        worst, worst_rank = sev, r
      end
    end
  end
  return worst
end

if phase == "Pending" or phase == "Running" then
  hs.status = "Progressing"
  hs.message = "Assessment " .. phase
  return hs
end
if phase == "Completed" then
  if status.healthy == true and issues == 0 then
    hs.status = "Healthy"
    hs.message = "Healthy, " .. score()
    return hs
  end
  hs.status = "Degraded"
  local msg = tostring(issues) .. " issue(s), " .. score()
  local sev = worst_severity()
  if sev ~= nil then
    msg = msg .. ", worst " .. sev
  end
  hs.message = msg
  return hs
end
if phase == "Inconclusive" then
  hs.status = "Degraded"
  hs.message = "Inconclusive: not enough data to judge health"
  return hs
end
if phase == "Failed" then
  hs.status = "Degraded"
  hs.message = "Assessment failed"
  if status.summary ~= nil and status.summary.text ~= nil then
    hs.message = "Assessment failed: " .. status.summary.text
  end
  return hs
end

hs.status = "Unknown"
hs.message = "Unexpected phase " .. tostring(phase)
return hs
