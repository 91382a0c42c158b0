// A blocking connection to Redis for a producer thread's small appends: the
// caller's own thread sends the append and waits for its reply, with no hop
// to the store's worker thread and back (each hop is a wake-up of another
// thread, ~50-100 µs on a small machine; a Redis round trip is ~200). One
// thread at a time uses it (the store holds a lock around it). It connects on
// first use, authenticates and selects the database as the worker's
// connections do, asks once whether its user may run MULTI, and is dropped
// after any transport error; the store then goes back to its worker until the
// worker's connection is up again. Each connection it makes has a number of
// its own, so a transaction that counts on a WATCH is never sent on a later
// connection, which does not have it.
#pragma once

#include "RedisClient.h"
#include "RedisUrl.h"
#include "Result.h"

#include <QByteArrayList>

struct redisContext;

namespace eventdesk {

class RedisDirect
{
    Q_DISABLE_COPY_MOVE(RedisDirect)
public:
    explicit RedisDirect(RedisEndpoint endpoint);
    ~RedisDirect();

    enum class Outcome {
        Answered,  // the reply (which may be Redis's error reply) is in `reply`
        NotSent,   // no connection: nothing reached Redis, another path may send it
        Lost,      // sent, but no reply: it may or may not have run
    };
    struct Answer {
        Outcome outcome = Outcome::NotSent;
        Error error;                // not answered: why
        QList<RedisReply> replies;  // answered: every reply, in order
        quint64 connection = 0;     // the connection it went on
        // The first command's reply, or why there is none.
        Result<RedisReply> first() const
        {
            return outcome == Outcome::Answered && !replies.isEmpty() ? Result<RedisReply>(replies.first()) : Result<RedisReply>(error);
        }
    };
    Answer command(const QByteArrayList &args);
    // Commands sent together (one round trip). Lost if any reply is missing.
    // With `onConnection`, only on that connection: NotSent, without
    // connecting again, once it is gone.
    Answer pipeline(const QList<QByteArrayList> &commands, quint64 onConnection = 0);
    // The same, with the commands already in Redis's protocol (appendCommandResp).
    Answer pipeline(const QByteArray &wire, qsizetype commands, quint64 onConnection = 0);

    // May this connection's user run MULTI (asked as it connected)?
    bool transactions() const { return m_transactions; }

private:
    bool connectNow(QString *why);
    void drop();
    bool stale() const;
    Error unavailable(const QString &why) const;

    RedisEndpoint m_endpoint;
    redisContext *m_context = nullptr;
    quint64 m_connection = 0;  // the current connection's number; each new one is higher
    bool m_transactions = false;
};

} // namespace eventdesk
