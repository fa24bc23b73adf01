-- wrk script: every request a different pre-signed newInstance — a new order, as kgsim load
-- sends — so that the merchant does the same work for both tools (a duplicate of one order
-- is only looked up).
--
-- PREFIX.K holds thread K's requests (K from 0), ready to send: raw HTTP/1.1 GET requests
-- back to back, each ending with its blank line (bench/run.sh writes them from
-- `kgsim load --print-requests`). A thread reads its file in one go when it starts, so that
-- no thread sends while another is still reading (wrk starts its clock once every thread has
-- been started, and a thread starts sending as soon as it is); each request then costs the
-- thread one search for the next blank line.
--   wrk -t2 -c64 -d3s -s bench/new-orders.lua http://127.0.0.1:18950 -- PREFIX
local counter = 0

function setup(thread)
  thread:set("index", counter)
  counter = counter + 1
end

function init(args)
  local file = assert(io.open(args[1] .. "." .. index, "rb"))
  requests = file:read("*a")
  file:close()
  assert(#requests > 0, "no requests for thread " .. index)
  position = 1
end

function request()
  local last = requests:find("\r\n\r\n", position, true)
  if not last then
    -- Past the last one: start again (repeats are duplicates the merchant looks up).
    position = 1
    last = requests:find("\r\n\r\n", position, true)
  end
  local request = requests:sub(position, last + 3)
  position = last + 4
  return request
end
