-- Spreads requests over many logged-in brokers: each request takes the next session cookie.
-- Reads "cookie<TAB>client id" lines from the file named by the SESSIONS environment variable;
-- "{client}" in the URL becomes a client of the broker whose session is used.
local sessions = {}
local counter = 0

init = function(args)
  local file = io.open(os.getenv("SESSIONS"), "r")
  for line in file:lines() do
    local cookie, client = line:match("([^\t]+)\t(%d+)")
    if cookie then sessions[#sessions + 1] = { cookie = cookie, client = client } end
  end
  file:close()
  counter = math.random(#sessions)
end

request = function()
  counter = counter + 1
  local session = sessions[(counter % #sessions) + 1]
  local path = wrk.path:gsub("{client}", session.client)
  return wrk.format("GET", path, { ["Cookie"] = session.cookie, ["Host"] = "127.0.0.1" })
end

done = function(summary, latency, requests)
  io.write(string.format("RESULT rps=%.1f p50_ms=%.1f p95_ms=%.1f p99_ms=%.1f errors=%d non2xx=%d requests=%d\n",
    summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000, latency:percentile(95) / 1000,
    latency:percentile(99) / 1000, summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.errors.status, summary.requests))
end
