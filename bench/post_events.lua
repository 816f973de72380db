-- wrk script: POST coupon events to a Flowmarket server (bench/throughput.py drives it).
-- Environment: BENCH_TOKEN (bearer), BENCH_PATH, BENCH_USERS (contacts b0..bN-1),
-- BENCH_BATCH (0: one event per request, N: {"events": [N events]}), BENCH_DELAY_MS (pacing),
-- BENCH_RUN (a prefix that makes idempotency keys unique per phase).
local token = os.getenv("BENCH_TOKEN")
local path = os.getenv("BENCH_PATH")
local users = tonumber(os.getenv("BENCH_USERS") or "300")
local batch = tonumber(os.getenv("BENCH_BATCH") or "0")
local delay_ms = tonumber(os.getenv("BENCH_DELAY_MS") or "0")
local run = os.getenv("BENCH_RUN") or "r"

local next_id = 0
function setup(thread)
  thread:set("tid", next_id)
  next_id = next_id + 1
end

local n = 0
local function event()
  n = n + 1
  local u = (n * 7 + tid * 131) % users
  return string.format(
    '{"event_type":"MESSAGE_RECEIVED","event_id":"%s-%d-%d","user_id":"b%d",' ..
    '"conversation_id":"c%d","data":{"content":"a coupon please"}}', run, tid, n, u, u)
end

function request()
  local body
  if batch > 0 then
    local items = {}
    for i = 1, batch do items[i] = event() end
    body = '{"events":[' .. table.concat(items, ",") .. ']}'
  else
    body = event()
  end
  return wrk.format("POST", path, {
    ["Authorization"] = "Bearer " .. token,
    ["Content-Type"] = "application/json",
  }, body)
end

if delay_ms > 0 then
  function delay() return delay_ms end
end

function done(summary, latency, requests)
  io.write(string.format(
    'WRK {"requests":%d,"duration_us":%d,"non2xx":%d,"errors":%d,' ..
    '"p50_us":%d,"p99_us":%d}\n',
    summary.requests, summary.duration, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    latency:percentile(50), latency:percentile(99)))
end
