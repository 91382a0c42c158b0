// What EventDesk keeps in Redis, and how: the Lua scripts that append, read,
// mark, trim and move cursors atomically, and a stream entry read back as a row.
#include "RedisStreamFormat.h"

#include "RedisClient.h"
#include "Timestamp.h"

#include <QCryptographicHash>

using namespace Qt::StringLiterals;

namespace eventdesk::redisstream {

namespace {


// Appends rows atomically. KEYS: stream, seq, worlds, forward cursors.
// ARGV: maxlen ('0': none), forward source ('': none), the number of worlds
// (those the caller has not added to the set yet), the worlds, then per row:
// type, payload, created_at, source id, and the world a recorded message of
// today's engine came from ('' for an AppEvent: the entry has no such field).
// Returns the new ids.
// The ids come from INCRBY on the counter (one call for the whole group). If
// the stream is ahead of the counter (entries someone else added with
// automatic ids, or a counter that was deleted), the first XADD is refused;
// the counter then moves past the stream's last id and the group goes on from
// there. A failure part way sets the counter back to the last id added, so
// ids stay dense.
constexpr char AppendScript[] = R"lua(
local stream, seqkey, maxlen, source = KEYS[1], KEYS[2], ARGV[1], ARGV[2]
local nworlds = tonumber(ARGV[3])
local cursor, moved = 0, 0
if source ~= '' then
  cursor = tonumber(redis.call('HGET', KEYS[4], source) or '0')
  moved = cursor
end
local rows = {}
for o = 4 + nworlds, #ARGV, 5 do
  local src = tonumber(ARGV[o + 3])
  if source == '' or src > moved then
    rows[#rows + 1] = o
    if source ~= '' then moved = src end
  end
end
local function xadd(o, n)
  local call = {'XADD', stream}
  if maxlen ~= '0' then
    call[#call + 1] = 'MAXLEN'
    call[#call + 1] = '~'
    call[#call + 1] = maxlen
  end
  call[#call + 1] = string.format('%d-0', n)
  call[#call + 1] = 'type'
  call[#call + 1] = ARGV[o]
  call[#call + 1] = 'payload'
  call[#call + 1] = ARGV[o + 1]
  call[#call + 1] = 'created_at'
  call[#call + 1] = ARGV[o + 2]
  if ARGV[o + 4] ~= '' then
    call[#call + 1] = 'recorded_world'
    call[#call + 1] = ARGV[o + 4]
  end
  return redis.pcall(unpack(call))
end
local function failed(r) return type(r) == 'table' and r.err ~= nil end
local ids = {}
if #rows > 0 then
  local base = redis.call('INCRBY', seqkey, #rows) - #rows
  for i, o in ipairs(rows) do
    local r = xadd(o, base + i)
    if i == 1 and failed(r) and string.find(r.err, 'equal or smaller', 1, true) then
      local info = redis.call('XINFO', 'STREAM', stream)
      for k = 1, #info, 2 do
        if info[k] == 'last-generated-id' then base = tonumber(string.match(info[k + 1], '^(%d+)')) end
      end
      redis.call('SET', seqkey, string.format('%d', base + #rows))
      r = xadd(o, base + 1)
    end
    if failed(r) then
      redis.call('SET', seqkey, string.format('%d', base + i - 1))
      return r
    end
    ids[i] = base + i
  end
end
for i = 4, 3 + nworlds do redis.call('SADD', KEYS[3], ARGV[i]) end
if moved > cursor then redis.call('HSET', KEYS[4], source, string.format('%d', moved)) end
return ids
)lua";

// A window of entries and their processed_at. KEYS: stream, processed.
// ARGV: 'fwd' or 'rev', start, end, count.
constexpr char RangeScript[] = R"lua(
local e
if ARGV[1] == 'rev' then
  e = redis.call('XREVRANGE', KEYS[1], ARGV[2], ARGV[3], 'COUNT', ARGV[4])
else
  e = redis.call('XRANGE', KEYS[1], ARGV[2], ARGV[3], 'COUNT', ARGV[4])
end
local p = {}
if #e > 0 and redis.call('HLEN', KEYS[2]) > 0 then
  local ids = {}
  for i, x in ipairs(e) do ids[i] = string.match(x[1], '^(%d+)') end
  p = redis.call('HMGET', KEYS[2], unpack(ids))
end
return {e, p}
)lua";

// The last id: the newest entry; when the stream is empty, the stream's last
// id or the counter, whichever is higher (either may be behind: the stream
// deleted alone, or the counter).
constexpr char HeadScript[] = R"lua(
local last = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)
if last[1] then return tonumber(string.match(last[1][1], '^(%d+)')) end
local n = tonumber(redis.call('GET', KEYS[2]) or '0')
if redis.call('EXISTS', KEYS[1]) == 1 then
  local info = redis.call('XINFO', 'STREAM', KEYS[1])
  for k = 1, #info, 2 do
    if info[k] == 'last-generated-id' then
      local g = tonumber(string.match(info[k + 1], '^(%d+)'))
      if g > n then n = g end
    end
  end
end
return n
)lua";

// KEYS: stream, processed. ARGV: '1' or '0', processed_at, ids… Returns rows changed.
constexpr char MarkScript[] = R"lua(
local changed = 0
for i = 3, #ARGV do
  local id = ARGV[i] .. '-0'
  if #redis.call('XRANGE', KEYS[1], id, id) > 0 then
    if ARGV[1] == '1' then
      changed = changed + redis.call('HSETNX', KEYS[2], ARGV[i], ARGV[2])
    else
      changed = changed + redis.call('HDEL', KEYS[2], ARGV[i])
    end
  end
end
return changed
)lua";

// A subscriber's cursor is its consumer group's last-delivered id. KEYS: stream. ARGV: name, id.
constexpr char SaveCursorScript[] = R"lua(
local id = ARGV[2] .. '-0'
local r = redis.pcall('XGROUP', 'SETID', KEYS[1], ARGV[1], id)
if type(r) == 'table' and r.err then
  redis.call('XGROUP', 'CREATE', KEYS[1], ARGV[1], id, 'MKSTREAM')
end
return 1
)lua";

// Deletes the entries up to an id and their processed marks. KEYS: stream, processed. ARGV: id.
constexpr char TrimScript[] = R"lua(
local n = redis.call('XTRIM', KEYS[1], 'MINID', string.format('%d-0', tonumber(ARGV[1]) + 1))
if redis.call('HLEN', KEYS[2]) > 0 then
  local gone = {}
  for _, k in ipairs(redis.call('HKEYS', KEYS[2])) do
    if tonumber(k) <= tonumber(ARGV[1]) then gone[#gone + 1] = k end
    if #gone == 1000 then redis.call('HDEL', KEYS[2], unpack(gone)); gone = {} end
  end
  if #gone > 0 then redis.call('HDEL', KEYS[2], unpack(gone)) end
end
return n
)lua";

} // namespace


static Script script(const char *body)
{
    return Script{body, QCryptographicHash::hash(QByteArray(body), QCryptographicHash::Sha1).toHex()};
}

const Script &appendScript() { static const Script s = script(AppendScript); return s; }
const Script &rangeScript() { static const Script s = script(RangeScript); return s; }
const Script &headScript() { static const Script s = script(HeadScript); return s; }
const Script &markScript() { static const Script s = script(MarkScript); return s; }
const Script &saveCursorScript() { static const Script s = script(SaveCursorScript); return s; }
const Script &trimScript() { static const Script s = script(TrimScript); return s; }

// "123-0" → 123; entries someone else added with automatic ids parse as their time part.
qint64 entryNumber(const QByteArray &entryId, bool *ok)
{
    const qsizetype dash = entryId.indexOf('-');
    return (dash < 0 ? entryId : entryId.left(dash)).toLongLong(ok);
}

Error malformed(const char *what)
{
    return Error{ErrorCode::Storage, {}, u"Redis sent an unexpected reply to %1"_s.arg(QLatin1StringView(what))};
}

// One stream entry [id, [field, value, …]] as a row.
StoredEvent toStoredEvent(const RedisReply &entry, const RedisReply *processedAt)
{
    StoredEvent e;
    if (entry.elements.size() < 2)
        return e;
    e.id = entryNumber(entry.elements[0].text);
    const QList<RedisReply> &fields = entry.elements[1].elements;
    bool hasPayload = false;
    bool recorded = false;
    QString recordedWorld;
    for (qsizetype i = 0; i + 1 < fields.size(); i += 2) {
        const QByteArray &name = fields[i].text;
        const QByteArray &value = fields[i + 1].text;
        if (name == "payload") {
            e.payload = value;
            hasPayload = true;
        } else if (name == "type") {
            e.eventType = QString::fromUtf8(value);
        } else if (name == "created_at") {
            e.createdAtText = QString::fromUtf8(value);
        } else if (name == RecordedWorldField) {
            recordedWorld = QString::fromUtf8(value);
            recorded = true;
        }
    }
    e.createdAt = timestamp::parse(e.createdAtText);
    if (processedAt && processedAt->type == RedisReply::Type::String) {
        e.processed = true;
        e.processedAt = timestamp::parse(QString::fromUtf8(processedAt->text));
    }
    if (hasPayload) {
        e.decode();
    } else {
        e.decodeError = u"the stream entry has no payload field"_s;
    }
    if (recorded) {
        // The engine's message, not EventDesk's: never an AppEvent to forward
        // to players, whatever its tag (as SQLite's eventdesk_recorded says).
        e.engineTag = e.eventType;
        e.recordedWorld = recordedWorld;
        if (e.event) {
            e.event.reset();
            e.decodeError = u"a message of today's engine, recorded"_s;
        }
    }
    return e;
}

bool isFilterFree(const EventQuery &q)
{
    return q.worlds.isEmpty() && q.kinds.isEmpty() && q.tags.isEmpty() && q.includeUndecodable && !q.createdFrom
        && !q.createdTo && q.text.isEmpty();
}

} // namespace eventdesk::redisstream
