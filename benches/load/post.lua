-- wrk script: POST one prebuilt multipart body (file and content type from the environment).
-- Answers of 400 and above are counted by wrk itself ("Non-2xx or 3xx responses"), which the
-- runners read, so a run full of errors cannot pass for a fast one.
local file = assert(io.open(os.getenv("WRK_BODY_FILE"), "rb"))
wrk.method = "POST"
wrk.body = file:read("*a")
file:close()
wrk.headers["Content-Type"] = os.getenv("WRK_CONTENT_TYPE")
