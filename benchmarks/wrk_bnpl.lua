-- POSTs to the BNPL API as many merchants: each request takes the next "<api key><TAB><id>" line of
-- the file named by SESSIONS. "{order}" in the URL becomes the line's id (one prepared order each);
-- a path with "/sessions/" gets a payment session body (a new reference each time).
-- Where to start in the file comes from the file named by OFFSET (if set) and is written back when
-- the run ends, so consecutive runs use orders not decided yet.
local entries = {}
counter = 0 -- a global: done() reads it from each thread (thread:get sees globals only)
local threads = {}

setup = function(thread)
  threads[#threads + 1] = thread
end

init = function(args)
  local file = io.open(os.getenv("SESSIONS"), "r")
  for line in file:lines() do
    local key, id = line:match("([^\t]+)\t(%d+)")
    if key then entries[#entries + 1] = { key = key, id = id } end
  end
  file:close()
  local offset_path = os.getenv("OFFSET")
  local offset = offset_path and io.open(offset_path, "r")
  if offset then
    counter = tonumber(offset:read("*l")) or 0
    offset:close()
  else
    counter = math.random(#entries)
  end
end

request = function()
  counter = counter + 1
  local entry = entries[((counter - 1) % #entries) + 1]
  local path = wrk.path:gsub("{order}", entry.id)
  local body = ""
  if path:find("/sessions/") then
    body = string.format(
      '{"amount":"120.00","currency":"EUR","order_lines":[{"name":"Bench item","quantity":2,"unit_price":"60.00"}],'
        .. '"shopper_email":"shopper%d@bench.example","locale":"en","reference":"BENCH-S-%d"}',
      counter % 200000 + 1, counter)
  end
  return wrk.format("POST", path, {
    ["Authorization"] = "Api-Key " .. entry.key,
    ["Content-Type"] = "application/json",
    ["Host"] = "127.0.0.1",
  }, body)
end

done = function(summary, latency, requests)
  local offset_path = os.getenv("OFFSET")
  if offset_path then
    local furthest = 0
    for _, thread in ipairs(threads) do
      local value = thread:get("counter") or 0
      if value > furthest then furthest = value end
    end
    local file = io.open(offset_path, "w")
    file:write(tostring(furthest))
    file:close()
  end
  io.write(string.format("RESULT rps=%.1f p50_ms=%.1f p95_ms=%.1f p99_ms=%.1f errors=%d non2xx=%d requests=%d\n",
    summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000, latency:percentile(95) / 1000,
    latency:percentile(99) / 1000, summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.errors.status, summary.requests))
end
