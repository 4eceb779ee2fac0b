-- wrk script: sends DEPTH requests (default 16) in one write, as
-- TechEmpower's pipelined plaintext test does. wrk counts each response.
--   wrk -s pipeline.lua URL -- 16
local depth = 16

init = function(args)
    depth = tonumber(args[1]) or depth
    local r = {}
    for i = 1, depth do
        r[i] = wrk.format()
    end
    batch = table.concat(r)
end

request = function()
    return batch
end
