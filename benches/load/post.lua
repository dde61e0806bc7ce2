-- wrk script: POST one prebuilt multipart body (file and content type from the environment).
local file = assert(io.open(os.getenv("WRK_BODY_FILE"), "rb"))
wrk.method = "POST"
wrk.body = file:read("*a")
file:close()
wrk.headers["Content-Type"] = os.getenv("WRK_CONTENT_TYPE")

-- Count answers other than 200 so a run full of errors cannot pass for a fast one.
local non_200 = 0
function response(status, headers, body)
  if status ~= 200 then
    non_200 = non_200 + 1
  end
end

function done(summary, latency, requests)
  io.write(string.format("non_200_in_thread_0: %d\n", non_200))
end
