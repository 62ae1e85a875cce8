-- A deadline for a whole request body, in the access phase (before proxy_pass). nginx's own
-- client_body_timeout bounds the pause between two reads only, so a body that keeps trickling in
-- would hold its connection for as long as the client likes. Here the body is read from the client's
-- socket with the time left before the deadline, then handed to nginx as the request body (in memory
-- up to client_body_buffer_size, in a temporary file past it), which proxy_pass sends on as usual.
local _M = {}

local CHUNK = 64 * 1024  -- at most this much per read; a read returns whatever has arrived

-- The whole body within deadline_s of the header, pausing at most read_timeout_s between two reads.
-- Past either, the connection is closed unanswered, as nginx treats its own 408: the client is
-- still sending, and nothing waits for an answer. Chunked bodies are refused with 411 before any is
-- read: the Lua module's request socket cannot read them.
function _M.read_body(deadline_s, read_timeout_s)
    if ngx.req.is_internal() then
        return  -- an error page: the request's body, if any, was dealt with before
    end
    local encoding = ngx.var.http_transfer_encoding
    if encoding ~= nil and encoding ~= "" then
        return ngx.exit(411)  -- answered in the contract's JSON (json_errors.conf)
    end
    local left = tonumber(ngx.var.content_length) or 0
    if left == 0 then
        return
    end
    local sock, err = ngx.req.socket()
    if not sock then
        ngx.log(ngx.WARN, "request body not readable: ", err)
        return ngx.exit(ngx.HTTP_BAD_REQUEST)
    end
    ngx.update_time()
    local deadline = ngx.now() + deadline_s
    local cut  -- why the body stopped: "deadline", "pause", or the socket's error ("closed")
    ngx.req.init_body()
    while left > 0 do
        ngx.update_time()
        local remaining = deadline - ngx.now()
        if remaining <= 0 then
            cut = "deadline"
            break
        end
        local wait = math.min(remaining, read_timeout_s)
        sock:settimeout(math.ceil(wait * 1000))
        local data
        data, err = sock:receiveany(math.min(left, CHUNK))
        if not data then
            if err ~= "timeout" then
                cut = err
            elseif wait < read_timeout_s then
                cut = "deadline"
            else
                cut = "pause"
            end
            break
        end
        ngx.req.append_body(data)
        left = left - #data
    end
    if cut == "deadline" then
        ngx.log(ngx.WARN, "request body not complete within ", deadline_s, " s (", left,
            " bytes missing): connection closed")
    elseif cut == "pause" then
        ngx.log(ngx.WARN, "request body paused over ", read_timeout_s, " s (", left,
            " bytes missing): connection closed")
    elseif cut then
        ngx.log(ngx.INFO, "request body not read: ", cut)  -- the client went away
    end
    if cut then
        return ngx.exit(ngx.HTTP_CLOSE)
    end
    ngx.req.finish_body()
end

return _M
