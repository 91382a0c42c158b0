// EventDesk's layout in Redis (DESIGN §8): the scripts that change it
// atomically, and a stream entry read back as a row.
#pragma once

#include "Ports.h"

#include <QByteArray>

namespace eventdesk {

struct RedisReply;

namespace redisstream {

// A Lua script and its SHA-1, for EVALSHA with EVAL as the fallback.
struct Script {
    const char *body;
    QByteArray sha;
};

// The field of an entry that holds a recorded message's world (eventdesk
// record): entries without it are AppEvents (or rows someone else added).
inline constexpr char RecordedWorldField[] = "recorded_world";

const Script &appendScript();
const Script &rangeScript();
const Script &headScript();
const Script &markScript();
const Script &saveCursorScript();
const Script &trimScript();

// "123-0" → 123; entries someone else added with automatic ids parse as their time part.
qint64 entryNumber(const QByteArray &entryId, bool *ok = nullptr);  // ok: false when not a number
Error malformed(const char *what);
// One stream entry [id, [field, value, …]] as a row; processedAt: its mark, if any.
StoredEvent toStoredEvent(const RedisReply &entry, const RedisReply *processedAt);
// No filter at all: a page or count can read the stream directly.
bool isFilterFree(const EventQuery &q);

} // namespace redisstream
} // namespace eventdesk
