// The appends' calls and replies (the script's, and the transactions'), shared
// by the store's worker (its pipelined connection) and a producer thread's own
// connection (RedisEventStore::appendDirect). Internal to the Redis store.
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

// The worlds of `rows` that the connection has not added to the set yet.
inline QByteArrayList newWorlds(const QList<RedisRow> &rows, const QSet<QByteArray> &knownWorlds)
{
    QByteArrayList worlds;
    for (const RedisRow &r : rows) {
        const QByteArray w = r.worldId.toUtf8();
        if (!w.isEmpty() && !knownWorlds.contains(w) && !worlds.contains(w))
            worlds.append(w);
    }
    return worlds;
}

inline AppendCall appendCall(const RedisEndpoint &endpoint, const QList<RedisRow> &rows, const QString &source,
                             const QSet<QByteArray> &knownWorlds)
{
    const QByteArrayList worlds = newWorlds(rows, knownWorlds);
    AppendCall call;
    call.worlds = worlds;
    call.keys = {endpoint.streamKey(), endpoint.key("seq"), endpoint.key("worlds"), endpoint.key("forward")};
    call.args = {QByteArray::number(endpoint.maxLength), source.toUtf8(), QByteArray::number(worlds.size())};
    call.args.reserve(3 + worlds.size() + 5 * rows.size());
    call.args << worlds;
    const QByteArray now = timestamp::nowUtf8();
    for (const RedisRow &r : rows)
        call.args << r.eventType.toUtf8() << r.payload << (r.createdAt.isEmpty() ? now : r.createdAt.toUtf8()) << QByteArray::number(r.sourceId)
                  << (r.recorded ? r.worldId.toUtf8() : QByteArray());
    return call;
}

// The XADD took the id it was given.
inline bool tookIdReply(const RedisReply &reply, qint64 id)
{
    return (reply.type == RedisReply::Type::String || reply.type == RedisReply::Type::Status) && reply.text == QByteArray::number(id) + "-0";
}

// One row's XADD with its id (`now`: its created_at when it has none).
inline QByteArrayList xaddCall(const RedisEndpoint &endpoint, const RedisRow &row, qint64 id, const QByteArray &now)
{
    QByteArrayList xadd{"XADD", endpoint.streamKey()};
    xadd.reserve(13);
    if (endpoint.maxLength > 0)
        xadd << "MAXLEN" << "~" << QByteArray::number(endpoint.maxLength);
    xadd << QByteArray::number(id) + "-0" << "type" << row.eventType.toUtf8() << "payload" << row.payload << "created_at"
         << (row.createdAt.isEmpty() ? now : row.createdAt.toUtf8());
    if (row.recorded && !row.worldId.isEmpty())  // as the append script: no world, no field
        xadd << redisstream::RecordedWorldField << row.worldId.toUtf8();
    return xadd;
}

// A group of rows as one transaction, with the ids after `head` (no script):
// MULTI, an XADD per row, the counter, the worlds new to the set; the caller
// sends the EXEC, with its reply's handler. It is sent only while the
// connection WATCHes the stream and the counter since it read `head`
// (readHeadCalls), so Redis runs it only if nothing touched them meanwhile:
// then every XADD's id is past the stream's last, and none fails. Redis runs
// a row here in about a third of the time it takes inside the append script
// (a command called from Lua costs ~3 us more than the XADD itself). The
// commands go to `send` one at a time (a big import is not held twice).
template <typename Send>
void transactionCall(const RedisEndpoint &endpoint, const QList<RedisRow> &rows, qint64 head, const QByteArrayList &worlds, Send &&send)
{
    send(QByteArrayList{"MULTI"});
    const QByteArray now = timestamp::nowUtf8();
    for (qsizetype i = 0; i < rows.size(); ++i)
        send(xaddCall(endpoint, rows[i], head + 1 + i, now));
    send(QByteArrayList{"SET", endpoint.key("seq"), QByteArray::number(head + rows.size())});
    if (!worlds.isEmpty())
        send(QByteArrayList{"SADD", endpoint.key("worlds")} + worlds);
}

// Redis refused an XADD because its id is not past the stream's last.
inline bool refusedForItsId(const RedisReply &reply)
{
    return reply.isError() && reply.text.contains("equal or smaller");
}

// What EXEC answered for a transactionCall of `count` rows after `head`: the
// ids, or why not. nullopt, for the script to do it: a nil EXEC (something
// touched the stream or the counter since the WATCH: nothing ran), or a
// single row's XADD refused for its id (the head was read from the counter
// alone, and the stream is past it: counterReadCalls). Its SET then raised
// the counter, still not past the stream's last id, which the script takes.
inline std::optional<Result<QList<qint64>>> transactionIds(const Result<RedisReply> &exec, qint64 head, qsizetype count)
{
    if (exec && exec->isNil())
        return std::nullopt;
    if (count == 1 && exec && exec->type == RedisReply::Type::Array && !exec->elements.isEmpty() && refusedForItsId(exec->elements.first()))
        return std::nullopt;
    const Result<RedisReply> r = checked(exec, "the append");
    if (!r)
        return Result<QList<qint64>>(r.error());
    if (r->type != RedisReply::Type::Array || r->elements.size() < count + 1)
        return Result<QList<qint64>>(redisstream::malformed("the append"));
    QList<qint64> ids;
    ids.reserve(count);
    for (qsizetype i = 0; i < count; ++i) {
        if (!tookIdReply(r->elements[i], head + 1 + i))
            return Result<QList<qint64>>(redisstream::malformed("the append"));
        ids.append(head + 1 + i);
    }
    return Result<QList<qint64>>(ids);
}

// Read after each append on the commands connection, to WATCH from there:
// the counter, and the stream's last-generated id. UNWATCH first: a
// connection that wrote a watched key itself stays marked (its next EXEC
// would not run) until it unwatches, and a WATCH alone does not clear that.
inline QList<QByteArrayList> readHeadCalls(const RedisEndpoint &endpoint)
{
    return {{"UNWATCH"},
            {"WATCH", endpoint.streamKey(), endpoint.key("seq")},
            {"GET", endpoint.key("seq")},
            {"XINFO", "STREAM", endpoint.streamKey()}};
}

// After an append's EXEC on a producer thread's connection (which it left
// unwatched): WATCH the stream and the counter, and read the counter alone.
// The head it gives serves a single row's transaction (whose XADD Redis
// refuses, with nothing added, if the stream is past the counter), not a
// group's: a group's XADDs past the stream's last would still be added.
inline QList<QByteArrayList> counterReadCalls(const RedisEndpoint &endpoint)
{
    return {{"WATCH", endpoint.streamKey(), endpoint.key("seq")}, {"GET", endpoint.key("seq")}};
}

// The counter, as counterReadCalls read it: none is 0; nullopt if it is not a
// number (the key holds something else).
inline std::optional<qint64> counterFrom(const Result<RedisReply> &counter)
{
    if (!counter || counter->isError())
        return std::nullopt;
    const std::optional<qint64> n = counter->isNil() ? std::optional<qint64>(0) : counter->toInteger();
    return n && *n >= 0 ? n : std::nullopt;
}

// The head the next append goes on from, from readHeadCalls' GET and XINFO:
// the counter or the stream's last-generated id, whichever is higher (as the
// append script finds it); no stream yet is 0. nullopt: not a number, or the
// keys hold something else (the script then says why).
inline std::optional<qint64> headFrom(const Result<RedisReply> &counter, const Result<RedisReply> &info)
{
    const std::optional<qint64> n = counterFrom(counter);
    if (!n || !info)
        return std::nullopt;
    if (info->isError())
        return info->text.contains("no such key") ? n : std::nullopt;
    if (info->type != RedisReply::Type::Array)
        return std::nullopt;
    for (qsizetype k = 0; k + 1 < info->elements.size(); k += 2) {
        if (info->elements[k].text != "last-generated-id")
            continue;
        bool ok = false;
        const qint64 last = redisstream::entryNumber(info->elements[k + 1].text, &ok);
        if (!ok || last < 0)
            return std::nullopt;
        return std::max(*n, last);
    }
    return std::nullopt;
}

// What readHeadCalls' replies, from `at` in a pipeline's, say: the head, if
// the WATCH was taken (an ACL may refuse it) and the counter and the stream
// read as numbers; -1 otherwise (the next append goes through the script).
inline qint64 headRead(const QList<RedisReply> &replies, qsizetype at)
{
    if (replies.size() < at + 4 || replies.at(at + 1).isError())
        return -1;
    return headFrom(replies.at(at + 2), replies.at(at + 3)).value_or(-1);
}

// The same for counterReadCalls' replies (WATCH, GET) from `at`.
inline qint64 counterRead(const QList<RedisReply> &replies, qsizetype at)
{
    if (replies.size() < at + 2 || replies.at(at).isError())
        return -1;
    return counterFrom(replies.at(at + 1)).value_or(-1);
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
        return others;
    }

    // The watch read entries up to `id`.
    void raise(qint64 id)
    {
        qint64 seen = known.load();
        while (id > seen && !known.compare_exchange_weak(seen, id)) {
        }
    }

    // A head read from Redis is behind what this store appended: Redis lost
    // it (a reset), and the worlds a connection added to the set with it.
    bool lostIn(qint64 readHead) const { return readHead >= 0 && readHead < known.load(); }

    // This store appended within the last `ns`.
    bool appendedWithin(qint64 ns) const
    {
        const qint64 at = appendedAtNs.load();
        return at != 0 && nowNs() - at < ns;
    }
};

} // namespace eventdesk
