// One connection to Redis on hiredis's async API, driven by the event loop of
// the thread it lives in through hiredis's Qt adapter: nothing blocks. It
// authenticates and selects the database on every (re)connect, fails a command
// that gets no reply within the endpoint's timeout (and renews the connection),
// fails at once while the server is away, and reconnects with backoff.
#pragma once

#include "RedisUrl.h"
#include "Result.h"

#include <QByteArrayList>
#include <QElapsedTimer>
#include <QHash>
#include <QObject>
#include <QTimer>

#include <functional>
#include <vector>

struct redisAsyncContext;
struct redisReply;
class RedisQtAdapter;

namespace eventdesk {

// A reply, copied out of hiredis's so that it can outlive the callback.
struct RedisReply {
    enum class Type { Nil, Integer, String, Status, Error, Array };
    Type type = Type::Nil;
    qint64 integer = 0;
    QByteArray text;             // String, Status, Error
    QList<RedisReply> elements;  // Array

    bool isError() const { return type == Type::Error; }
    bool isNil() const { return type == Type::Nil; }
    // An Integer, or a String holding one.
    std::optional<qint64> toInteger() const;
};

// hiredis's reply, copied.
RedisReply toRedisReply(const redisReply *reply);

// A command in Redis's own protocol (RESP), appended to `out`: commands
// written back to back form a pipeline.
void appendCommandResp(QByteArray &out, const QByteArrayList &args);

// A command's arguments as hiredis's *Argv calls take them: pointers into
// `args`, which must outlive this.
struct RedisArgv {
    explicit RedisArgv(const QByteArrayList &args)
    {
        argv.reserve(size_t(args.size()));
        lengths.reserve(size_t(args.size()));
        for (const QByteArray &a : args) {
            argv.push_back(a.constData());
            lengths.push_back(size_t(a.size()));
        }
    }
    int count() const { return int(argv.size()); }
    std::vector<const char *> argv;
    std::vector<size_t> lengths;
};

class RedisClient final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(RedisClient)
public:
    enum class State { Disconnected, Connecting, Ready };
    // A transport failure (unreachable, timed out, connection lost) is an Error;
    // Redis's own error replies arrive as a RedisReply of type Error.
    using Callback = std::function<void(Result<RedisReply>)>;

    RedisClient(RedisEndpoint endpoint, QString role, QObject *parent = nullptr);
    ~RedisClient() override;

    void start();
    State state() const { return m_state; }
    bool isReady() const { return m_state == State::Ready; }
    // Why the last connection attempt or connection failed (empty when none did).
    QString lastError() const { return m_lastError; }

    // Sends a command; callback runs on this thread, exactly once. timeoutMs
    // 0: the endpoint's timeout (a blocking command passes its block time plus that).
    void command(const QByteArrayList &args, Callback callback, int timeoutMs = 0);
    // Sends a command whose reply is read and dropped: only for one whose
    // outcome a later command's reply tells (MULTI and what it queues: EXEC
    // answers for them; a WATCH: the EXEC after it). Not connected: nothing is
    // sent, and that later command says so.
    void commandWithoutReply(const QByteArrayList &args);

Q_SIGNALS:
    void ready();
    // The connection failed or was lost; it is being retried.
    void connectionLost(const QString &reason);
    // The server refused our credentials or database: retrying will not help.
    void refused(const QString &reason);

private:
    struct Pending {
        Callback callback;
        qint64 deadline = 0;
        int timeoutMs = 0;
    };
    friend struct RedisClientCallbacks;

    void connectNow();
    void handshake();
    void onReply(quint64 seq, void *reply);
    void onConnected(int status);
    void onDisconnected(int status);
    void dropConnection(const QString &reason, bool reconnect);
    // Disconnected: say why, and try again after the next backoff step.
    void lostAndRetry(const QString &what, const QString &why);
    void retireAdapter();
    void failAll(QHash<quint64, Pending> pending, const QString &reason);
    void checkDeadlines();
    void send(const QByteArrayList &args, Callback callback, int timeoutMs);
    Error unavailable(const QString &why) const;

    RedisEndpoint m_endpoint;
    QString m_role;
    State m_state = State::Disconnected;
    redisAsyncContext *m_context = nullptr;
    RedisQtAdapter *m_adapter = nullptr;
    bool m_stopping = false;
    bool m_refused = false;
    quint64 m_nextSeq = 1;
    QHash<quint64, Pending> m_pending;
    QElapsedTimer m_clock;
    qint64 m_connectDeadline = 0;
    QTimer m_deadlines;
    QTimer m_reconnect;
    int m_backoffMs = 0;
    QString m_lastError;
};

// Turns a reply into what callers want: a Redis error reply or a transport
// failure becomes an Error that says which command failed.
Result<RedisReply> checked(const Result<RedisReply> &reply, const char *what);

} // namespace eventdesk
