// A blocking connection to Redis for a producer thread's small appends: the
// caller's own thread sends the append script and waits for its reply, with
// no hop to the store's worker thread and back (each hop is a wake-up of
// another thread, ~50-100 µs on a small machine; a Redis round trip is ~200).
// One thread at a time uses it (the store holds a lock around it). It connects
// on first use, authenticates and selects the database as the worker's
// connections do, and is dropped after any transport error; the store then
// goes back to its worker until the worker's connection is up again.
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
        Result<RedisReply> reply = RedisReply{};
        QList<RedisReply> others;  // a pipeline's other replies, in order
    };
    Answer command(const QByteArrayList &args);
    // Commands sent together (one round trip); the first one's answer, the
    // others' replies beside it. Lost if any reply is missing.
    Answer pipeline(const QList<QByteArrayList> &commands);

private:
    bool connectNow(QString *why);
    void drop();
    bool stale() const;
    Error unavailable(const QString &why) const;

    RedisEndpoint m_endpoint;
    redisContext *m_context = nullptr;
};

} // namespace eventdesk
