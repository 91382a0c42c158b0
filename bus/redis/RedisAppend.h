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
#include <chrono>
#include <optional>

namespace eventdesk {

// What a call on a store that is closing, or closed, hears.
inline Error closedError()
{
    return Error{ErrorCode::Unavailable, {}, QStringLiteral("the Redis bus is closed")};
}

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

// A single row whose id is known in advance: the store's known head + 1,
// while this store believes it was the stream's last writer. A plain XADD
// with that id (no script) is accepted only if nothing is at or past it, so
// an id is never reused, and a refused XADD changes nothing: the caller then
// sends the script. The counter is set to the id in the same round trip. Set
// unconditionally, it can only fall behind the stream (the XADD refused, or
// another node's script between the two), which the script repairs when its
// first XADD is refused; and if Redis refuses the XADD for another reason
// (the key is not a stream), undoNextIdScript sets it back. So it is never
// ahead and no id is skipped, and a stream deleted on its own goes on from the
// counter, as with the script alone. The SET returns the counter it replaced
// (counterBefore): one behind the head this store knew was the stream's last
// writer; lower, and Redis may have been reset under it (reseatScript).
inline QList<QByteArrayList> nextIdCall(const RedisEndpoint &endpoint, const RedisRow &row, qint64 id)
{
    const QByteArray entryId = QByteArray::number(id) + "-0";
    QByteArrayList xadd{"XADD", endpoint.streamKey()};
    xadd.reserve(11);
    if (endpoint.maxLength > 0)
        xadd << "MAXLEN" << "~" << QByteArray::number(endpoint.maxLength);
    xadd << entryId << "type" << row.eventType.toUtf8() << "payload" << row.payload
         << "created_at" << (row.createdAt.isEmpty() ? timestamp::nowUtf8() : row.createdAt.toUtf8());
    return {xadd, {"SET", endpoint.key("seq"), QByteArray::number(id), "GET"}};
}

// The counter nextIdCall's SET replaced: 0 if there was none, nullopt if
// Redis did not say (the counter's key holds something else).
inline std::optional<qint64> counterBefore(const QList<RedisReply> &others)
{
    if (others.isEmpty() || others.first().isError())
        return std::nullopt;
    return others.first().isNil() ? 0 : others.first().toInteger();
}

// Redis refused an XADD because its id is not past the stream's last.
inline bool refusedForItsId(const Result<RedisReply> &reply)
{
    return reply && reply->isError() && reply->text.contains("equal or smaller");
}

// The XADD took the id it was given.
inline bool tookId(const Result<RedisReply> &reply, qint64 id)
{
    return reply && (reply->type == RedisReply::Type::String || reply->type == RedisReply::Type::Status)
           && reply->text == QByteArray::number(id) + "-0";
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

// What this store's own appends tell its watch, shared by the worker and the
// producer threads: the highest id the store knows of, and when it last appended.
struct RedisHead {
    std::atomic<qint64> known{0};
    std::atomic<qint64> appendedAtNs{0};  // steady clock; 0: never
    // This store's last append came straight after the head it knew: no other
    // node is writing between its appends, so a single row may take the next
    // id itself (nextIdCall). Off after an append that shows another node's
    // entries, until one that does not.
    std::atomic<bool> lastWriter{true};

    static qint64 nowNs()
    {
        return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch()).count();
    }

    // After an append of this store: raises the known head (what this store
    // appended is not news from elsewhere) and returns the last id another
    // node wrote before it, or 0. Ids come from one counter, so any between
    // the known head and this append's first are another node's, already in
    // the stream: while this store keeps appending, each reply does the
    // watch's work. (Two of this store's appends answered out of order report
    // a gap that is their own: one look too many, never one too few.)
    qint64 appended(const QList<qint64> &ids)
    {
        if (ids.isEmpty())
            return 0;
        appendedAtNs.store(nowNs());
        qint64 seen = known.load();
        const qint64 others = ids.first() - 1 > seen ? ids.first() - 1 : 0;
        raise(ids.last());
        lastWriter.store(others == 0);
        return others;
    }

    // The watch read entries up to `id`.
    void raise(qint64 id)
    {
        qint64 seen = known.load();
        while (id > seen && !known.compare_exchange_weak(seen, id)) {
        }
    }

    // This store's append took `id` in a log that went back under it
    // (reseatScript moved its entry there): what it knew is gone, and the
    // next single row goes through the script, which finds the stream's last
    // id. Ids not past the known head prove nothing by themselves (the watch
    // may read this store's own entries before their replies arrive): this
    // is said only when Redis showed it.
    void wentBackTo(qint64 id)
    {
        appendedAtNs.store(nowNs());
        known.store(id);
        lastWriter.store(false);
    }

    // This store appended within the last `ns`.
    bool appendedWithin(qint64 ns) const
    {
        const qint64 at = appendedAtNs.load();
        return at != 0 && nowNs() - at < ns;
    }
};

} // namespace eventdesk
