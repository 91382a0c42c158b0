// The append script's call and reply, shared by the store's worker (its
// pipelined connection) and a producer thread's own connection
// (RedisEventStore::appendDirect). Internal to the Redis store.
#pragma once

#include "RedisClient.h"
#include "RedisEventStore.h"
#include "RedisStreamFormat.h"
#include "Timestamp.h"

#include <QByteArrayList>
#include <QSet>

#include <atomic>

namespace eventdesk {

// EVALSHA or EVAL of a script: verb, SHA or body, the keys, the arguments.
inline QByteArrayList scriptCall(const QByteArray &verb, const QByteArray &script, const QByteArrayList &keys, const QByteArrayList &args)
{
    QByteArrayList argv{verb, script, QByteArray::number(keys.size())};
    argv.reserve(3 + keys.size() + args.size());
    argv << keys << args;
    return argv;
}

inline bool isNoScript(const Result<RedisReply> &r)
{
    return r && r->isError() && r->text.startsWith("NOSCRIPT");
}

// The append script's keys and arguments for rows (RedisStreamFormat.cpp).
// Worlds the connection already added to the set are not sent again.
struct AppendCall {
    QByteArrayList keys;
    QByteArrayList args;
    QByteArrayList worlds;  // sent for the set: known once the append succeeds
};

inline AppendCall appendCall(const RedisEndpoint &endpoint, const QList<RedisRow> &rows, const QString &source,
                             const QSet<QByteArray> &knownWorlds)
{
    QByteArrayList worlds;
    for (const RedisRow &r : rows) {
        const QByteArray w = r.worldId.toUtf8();
        if (!w.isEmpty() && !knownWorlds.contains(w) && !worlds.contains(w))
            worlds.append(w);
    }
    AppendCall call;
    call.worlds = worlds;
    call.keys = {endpoint.streamKey(), endpoint.key("seq"), endpoint.key("worlds"), endpoint.key("forward")};
    call.args = {QByteArray::number(endpoint.maxLength), source.toUtf8(), QByteArray::number(worlds.size())};
    call.args.reserve(3 + worlds.size() + 4 * rows.size());
    call.args << worlds;
    const QByteArray now = timestamp::nowUtf8();
    for (const RedisRow &r : rows)
        call.args << r.eventType.toUtf8() << r.payload << (r.createdAt.isEmpty() ? now : r.createdAt.toUtf8()) << QByteArray::number(r.sourceId);
    return call;
}

// The script's reply: the new ids, one per row (expected < 0: any number, as
// a forward skips rows it has seen).
inline Result<QList<qint64>> appendIds(const Result<RedisReply> &reply, qsizetype expected)
{
    const Result<RedisReply> r = checked(reply, "the append");
    if (!r)
        return r.error();
    QList<qint64> ids;
    ids.reserve(r->elements.size());
    for (const RedisReply &e : r->elements)
        ids.append(e.integer);
    if (expected >= 0 && ids.size() != expected)
        return redisstream::malformed("the append");
    return ids;
}

// What this store appended is not news from elsewhere: the watch compares with it.
inline void raiseKnownHead(std::atomic<qint64> &known, const QList<qint64> &ids)
{
    if (ids.isEmpty())
        return;
    qint64 seen = known.load();
    while (ids.last() > seen && !known.compare_exchange_weak(seen, ids.last())) {
    }
}

} // namespace eventdesk
