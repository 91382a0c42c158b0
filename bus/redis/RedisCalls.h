// The Redis store's calls other than appends, on the worker's commands
// connection: windows of entries and the scans built on them, counts, worlds,
// the head, marks, cursors, trims, and the scripts' EVALSHA with its retry.
// Internal to RedisEventStore.cpp (through RedisWorker.h); runs on the
// worker's thread.
#pragma once

#include "RedisAppend.h"
#include "RedisClient.h"
#include "RedisEventStore.h"
#include "RedisStreamFormat.h"
#include "Timestamp.h"

#include <functional>
#include <memory>

namespace eventdesk {

class RedisCalls
{
    Q_DISABLE_COPY_MOVE(RedisCalls)
public:
    template <typename T>
    using Done = std::function<void(Result<T>)>;

    // `resent`: a script was sent again as its body (Redis had lost it),
    // after whatever was queued behind its first try.
    RedisCalls(RedisClient &commands, const RedisEndpoint &endpoint, std::function<void()> resent)
        : m_commands(commands)
        , m_endpoint(endpoint)
        , m_stream(endpoint.streamKey())
        , m_resent(std::move(resent))
    {
    }

    void eval(const redisstream::Script &s, const QByteArrayList &keys, const QByteArrayList &args, RedisClient::Callback cb)
    {
        m_commands.command(scriptCall("EVALSHA", s.sha, keys, args), [this, body = s.body, keys, args, cb = std::move(cb)](Result<RedisReply> r) mutable {
            if (isNoScript(r)) {
                // Redis restarted (or flushed its scripts): send the body,
                // which caches it again.
                m_resent();
                m_commands.command(scriptCall("EVAL", QByteArray(body), keys, args), std::move(cb));
                return;
            }
            cb(std::move(r));
        });
    }

    // One window of entries: XRANGE (or XREVRANGE) from start to end, at most count.
    void range(bool reverse, const QByteArray &start, const QByteArray &end, int count, Done<QList<StoredEvent>> done)
    {
        eval(redisstream::rangeScript(), {m_stream, m_endpoint.key("processed")},
             {reverse ? "rev" : "fwd", start, end, QByteArray::number(count)},
             [done = std::move(done)](Result<RedisReply> reply) {
                 const Result<RedisReply> r = checked(reply, "a range read");
                 if (!r) {
                     done(r.error());
                     return;
                 }
                 if (r->elements.size() != 2) {
                     done(redisstream::malformed("a range read"));
                     return;
                 }
                 const QList<RedisReply> &entries = r->elements[0].elements;
                 const QList<RedisReply> &processed = r->elements[1].elements;
                 QList<StoredEvent> rows;
                 rows.reserve(entries.size());
                 for (qsizetype i = 0; i < entries.size(); ++i)
                     rows.append(redisstream::toStoredEvent(entries[i], i < processed.size() ? &processed[i] : nullptr));
                 done(rows);
             });
    }

    void fetchSince(qint64 afterId, int limit, Done<QList<StoredEvent>> done)
    {
        range(false, "(" + QByteArray::number(qMax<qint64>(afterId, 0)) + "-0", "+", qBound(1, limit, 10000), std::move(done));
    }

    // Pages through the stream in windows, keeping the rows the query matches,
    // until it has query.limit of them (or counts them all when counting).
    struct Scan {
        EventQuery query;
        bool counting = false;
        QList<StoredEvent> rows;
        qint64 counted = 0;
        qint64 skip = 0;  // matching rows still to pass over (query.offset)
        QByteArray start;
        QByteArray end;
        Done<QList<StoredEvent>> done;
        Done<qint64> countDone;
    };

    void scan(std::shared_ptr<Scan> s)
    {
        const int window = s->counting || s->skip > 0 ? 5000 : qBound(200, s->query.limit * 4, 5000);
        range(s->query.newestFirst, s->start, s->end, window, [this, s, window](Result<QList<StoredEvent>> r) {
            if (!r) {
                s->counting ? s->countDone(r.error()) : s->done(r.error());
                return;
            }
            for (StoredEvent &e : r.value()) {
                if (!s->query.matches(e))
                    continue;
                if (s->skip > 0) {
                    --s->skip;
                    continue;
                }
                if (s->counting) {
                    ++s->counted;
                } else {
                    s->rows.append(std::move(e));
                    if (s->rows.size() >= s->query.limit)
                        break;
                }
            }
            const bool full = !s->counting && s->rows.size() >= s->query.limit;
            if (full || r->size() < window) {
                s->counting ? s->countDone(s->counted) : s->done(std::move(s->rows));
                return;
            }
            const QByteArray next = "(" + QByteArray::number(r->last().id) + "-0";
            s->start = next;
            scan(s);
        });
    }

    std::shared_ptr<Scan> newScan(const EventQuery &query)
    {
        auto s = std::make_shared<Scan>();
        s->query = query;
        s->skip = std::max<qint64>(query.offset, 0);
        const QByteArray low = query.afterId > 0 ? "(" + QByteArray::number(query.afterId) + "-0" : QByteArray("-");
        const QByteArray high = query.beforeId > 0 ? "(" + QByteArray::number(query.beforeId) + "-0" : QByteArray("+");
        // XREVRANGE takes the high end first; scan() always moves `start`.
        s->start = query.newestFirst ? high : low;
        s->end = query.newestFirst ? low : high;
        return s;
    }

    void fetchPage(const EventQuery &query, Done<QList<StoredEvent>> done)
    {
        if (query.limit <= 0) {
            done(QList<StoredEvent>{});
            return;
        }
        auto s = newScan(query);
        s->done = std::move(done);
        scan(s);
    }

    void count(const EventQuery &query, Done<qint64> done)
    {
        if (redisstream::isFilterFree(query) && query.afterId <= 0 && query.beforeId <= 0) {
            m_commands.command({"XLEN", m_stream}, [done = std::move(done)](Result<RedisReply> reply) {
                const Result<RedisReply> r = checked(reply, "XLEN");
                if (!r)
                    done(r.error());
                else
                    done(r->integer);
            });
            return;
        }
        auto s = newScan(query);
        s->counting = true;
        s->skip = 0;  // a count ignores paging
        s->countDone = std::move(done);
        scan(s);
    }

    void worlds(Done<QStringList> done)
    {
        m_commands.command({"SMEMBERS", m_endpoint.key("worlds")}, [done = std::move(done)](Result<RedisReply> reply) {
            const Result<RedisReply> r = checked(reply, "SMEMBERS");
            if (!r) {
                done(r.error());
                return;
            }
            QStringList out;
            for (const RedisReply &e : r->elements)
                out.append(QString::fromUtf8(e.text));
            out.sort();
            done(out);
        });
    }

    void head(Done<qint64> done)
    {
        eval(redisstream::headScript(), {m_stream, m_endpoint.key("seq")}, {}, [done = std::move(done)](Result<RedisReply> reply) {
            const Result<RedisReply> r = checked(reply, "the head id");
            if (!r)
                done(r.error());
            else
                done(r->type == RedisReply::Type::Integer ? r->integer : 0);
        });
    }

    void mark(const QList<qint64> &ids, bool processed, Done<int> done)
    {
        QByteArrayList args{processed ? "1" : "0", timestamp::nowUtf8()};
        for (qint64 id : ids)
            args << QByteArray::number(id);
        eval(redisstream::markScript(), {m_stream, m_endpoint.key("processed")}, args, [done = std::move(done)](Result<RedisReply> reply) {
            const Result<RedisReply> r = checked(reply, "marking rows processed");
            if (!r)
                done(r.error());
            else
                done(int(r->integer));
        });
    }

    void loadCursor(const QString &name, Done<qint64> done)
    {
        m_commands.command({"XINFO", "GROUPS", m_stream}, [name, done = std::move(done)](Result<RedisReply> reply) {
            if (reply && reply->isError() && reply->text.contains("no such key")) {
                done(qint64(0));  // no stream yet: nothing handled yet
                return;
            }
            const Result<RedisReply> r = checked(reply, "XINFO GROUPS");
            if (!r) {
                done(r.error());
                return;
            }
            const QByteArray wanted = name.toUtf8();
            for (const RedisReply &group : r->elements) {
                QByteArray groupName, lastDelivered;
                for (qsizetype i = 0; i + 1 < group.elements.size(); i += 2) {
                    if (group.elements[i].text == "name")
                        groupName = group.elements[i + 1].text;
                    else if (group.elements[i].text == "last-delivered-id")
                        lastDelivered = group.elements[i + 1].text;
                }
                if (groupName == wanted) {
                    done(redisstream::entryNumber(lastDelivered));
                    return;
                }
            }
            done(qint64(0));
        });
    }

    void saveCursor(const QString &name, qint64 lastId, Done<bool> done)
    {
        eval(redisstream::saveCursorScript(), {m_stream}, {name.toUtf8(), QByteArray::number(lastId)}, [done = std::move(done)](Result<RedisReply> reply) {
            const Result<RedisReply> r = checked(reply, "saving a cursor");
            if (!r)
                done(r.error());
            else
                done(true);
        });
    }

    void forwardCursor(const QString &source, Done<qint64> done)
    {
        m_commands.command({"HGET", m_endpoint.key("forward"), source.toUtf8()}, [done = std::move(done)](Result<RedisReply> reply) {
            const Result<RedisReply> r = checked(reply, "HGET");
            if (!r)
                done(r.error());
            else
                done(r->toInteger().value_or(0));
        });
    }

    void trim(qint64 lastId, Done<qint64> done)
    {
        eval(redisstream::trimScript(), {m_stream, m_endpoint.key("processed")}, {QByteArray::number(lastId)}, [done = std::move(done)](Result<RedisReply> reply) {
            const Result<RedisReply> r = checked(reply, "XTRIM");
            if (!r)
                done(r.error());
            else
                done(r->integer);
        });
    }

private:
    RedisClient &m_commands;
    const RedisEndpoint &m_endpoint;
    QByteArray m_stream;
    std::function<void()> m_resent;
};

} // namespace eventdesk
