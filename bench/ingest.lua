-- wrk script: POST subscription_added callbacks, each with its own event_id, and print
-- the latency percentiles and counts as one JSON line at the end.
local counter = 0
local thread_id = 0
local threads = {}

function setup(thread)
  thread_id = thread_id + 1
  thread:set("tid", thread_id)
  table.insert(threads, thread)
end

function init(args)
  prefix = os.getenv("BENCH_EVENT_PREFIX") or "bench"
  auth = os.getenv("BENCH_AUTH_HEADER")
end

function request()
  counter = counter + 1
  local id = string.format("%s-%d-%d", prefix, tid, counter)
  local person = counter % 5000
  local body = string.format(
    '{"event_id":"%s","callback_type":"subscription_added","event_type":"subscription_added",' ..
    '"event_date":"2026-11-28T12:00:00Z","delivery_attempt":"1","subscription":{' ..
    '"person":{"id":"%d","person_key":"pk-%d","external_id":"bench-%d","external_person_id":"bench-%d",' ..
    '"url":"/companies/demo/mobiledb/persons/pk-%d"},' ..
    '"subscription_list":{"id":"1001","url":"/companies/demo/mobiledb/subscription_lists/1001"},' ..
    '"opt_in_date":"2026-11-28T12:00:00Z","url":"/companies/demo/mobiledb/persons/pk-%d/subscriptions/1001"}}',
    id, person, person, person, person, person, person)
  local headers = {["Content-Type"] = "application/json"}
  if auth then headers["Authorization"] = auth end
  return wrk.format("POST", nil, headers, body)
end

function done(summary, latency, requests)
  io.write(string.format(
    'BENCH_JSON {"requests":%d,"duration_us":%d,"errors_status":%d,"errors_connect":%d,' ..
    '"errors_timeout":%d,"p50_us":%d,"p99_us":%d}\n',
    summary.requests, summary.duration, summary.errors.status, summary.errors.connect,
    summary.errors.timeout, latency:percentile(50), latency:percentile(99)))
end
