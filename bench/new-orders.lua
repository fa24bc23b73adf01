-- wrk script: every request a different pre-signed newInstance — a new order, as kgsim load
-- sends — so that the merchant does the same work for both tools (a duplicate of one order
-- is only looked up). FILE holds one signed URL per line (`kgsim load --print-requests`);
-- thread k of THREADS sends lines k+1, k+1+THREADS, …, so no two threads send the same order.
--   wrk -t2 -c64 -d3s -s bench/new-orders.lua http://127.0.0.1:18950 -- FILE THREADS
local counter = 0

function setup(thread)
  thread:set("index", counter)
  counter = counter + 1
end

function init(args)
  local stride = tonumber(args[2])
  local position = 0
  requests = {}
  for line in io.lines(args[1]) do
    if position % stride == index then
      requests[#requests + 1] = wrk.format("GET", line:match("^https?://[^/]+(/.*)$"))
    end
    position = position + 1
  end
  next_request = 0
end

function request()
  next_request = next_request % #requests + 1
  return requests[next_request]
end
