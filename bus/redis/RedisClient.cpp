#include "RedisClient.h"

#include "BusLog.h"

#include <hiredis/adapters/qt.h>
#include <hiredis/async.h>
#include <hiredis/hiredis.h>

#include <QPointer>

#include <charconv>
#include <vector>

using namespace Qt::StringLiterals;

namespace eventdesk {

namespace {

constexpr int FirstBackoffMs = 100;
constexpr int MaxBackoffMs = 5000;
constexpr int DeadlineTickMs = 50;

} // namespace

RedisReply toRedisReply(const redisReply *r)
{
    RedisReply out;
    switch (r->type) {
    case REDIS_REPLY_STRING:
        out.type = RedisReply::Type::String;
        out.text = QByteArray(r->str, qsizetype(r->len));
        break;
    case REDIS_REPLY_STATUS:
        out.type = RedisReply::Type::Status;
        out.text = QByteArray(r->str, qsizetype(r->len));
        break;
    case REDIS_REPLY_ERROR:
        out.type = RedisReply::Type::Error;
        out.text = QByteArray(r->str, qsizetype(r->len));
        break;
    case REDIS_REPLY_INTEGER:
        out.type = RedisReply::Type::Integer;
        out.integer = r->integer;
        break;
    case REDIS_REPLY_ARRAY:
        out.type = RedisReply::Type::Array;
        out.elements.reserve(qsizetype(r->elements));
        for (size_t i = 0; i < r->elements; ++i)
            out.elements.append(toRedisReply(r->element[i]));
        break;
    default:
        out.type = RedisReply::Type::Nil;
        break;
    }
    return out;
}

namespace {

// The Qt adapter's destructor writes to the context it was last given, and
// hiredis calls the adapter's cleanup while freeing a context. So an adapter
// outlives its context and is pointed at a private dummy before it is deleted.
void retire(RedisQtAdapter *adapter)
{
    auto *dummy = new redisAsyncContext{};
    adapter->setContext(dummy);
    QObject::connect(adapter, &QObject::destroyed, [dummy] { delete dummy; });
    adapter->deleteLater();
}

} // namespace

std::optional<qint64> RedisReply::toInteger() const
{
    if (type == Type::Integer)
        return integer;
    if (type == Type::String) {
        bool ok = false;
        const qint64 v = text.toLongLong(&ok);
        if (ok)
            return v;
    }
    return std::nullopt;
}

Result<RedisReply> checked(const Result<RedisReply> &reply, const char *what)
{
    if (!reply)
        return reply.error();
    if (reply->isError())
        return Error{ErrorCode::Storage, {}, u"Redis refused %1: %2"_s.arg(QLatin1StringView(what), QString::fromUtf8(reply->text))};
    return reply;
}

// hiredis calls plain functions; these find the client through the context.
struct RedisClientCallbacks {
    static void onConnect(const redisAsyncContext *ac, int status)
    {
        if (auto *client = static_cast<RedisClient *>(ac->data); client && client->m_context == ac)
            client->onConnected(status);
    }
    static void onDisconnect(const redisAsyncContext *ac, int status)
    {
        if (auto *client = static_cast<RedisClient *>(ac->data); client && client->m_context == ac)
            client->onDisconnected(status);
    }
    static void onReply(redisAsyncContext *ac, void *reply, void *privdata)
    {
        if (auto *client = static_cast<RedisClient *>(ac->data))
            client->onReply(quint64(reinterpret_cast<quintptr>(privdata)), reply);
    }
};

RedisClient::RedisClient(RedisEndpoint endpoint, QString role, QObject *parent)
    : QObject(parent)
    , m_endpoint(std::move(endpoint))
    , m_role(std::move(role))
{
    m_clock.start();
    m_deadlines.setInterval(DeadlineTickMs);
    connect(&m_deadlines, &QTimer::timeout, this, &RedisClient::checkDeadlines);
    m_reconnect.setSingleShot(true);
    connect(&m_reconnect, &QTimer::timeout, this, &RedisClient::connectNow);
}

RedisClient::~RedisClient()
{
    m_stopping = true;
    dropConnection(u"the bus is closing"_s, false);
}

void RedisClient::start()
{
    if (m_state == State::Disconnected && !m_reconnect.isActive())
        connectNow();
}

Error RedisClient::unavailable(const QString &why) const
{
    return Error{ErrorCode::Unavailable, {}, u"Redis at %1:%2 is unavailable: %3"_s.arg(m_endpoint.host).arg(m_endpoint.port).arg(why)};
}

void RedisClient::connectNow()
{
    if (m_stopping || m_context)
        return;
    m_state = State::Connecting;
    redisAsyncContext *ac = redisAsyncConnect(m_endpoint.host.toUtf8().constData(), m_endpoint.port);
    if (!ac || ac->err) {
        const QString why = ac ? QString::fromLocal8Bit(ac->errstr) : u"out of memory"_s;
        if (ac)
            redisAsyncFree(ac);
        lostAndRetry(u"connect failed"_s, why);
        return;
    }
    ac->data = this;
    m_adapter = new RedisQtAdapter;
    m_adapter->setContext(ac);
    m_context = ac;
    redisAsyncSetConnectCallback(ac, &RedisClientCallbacks::onConnect);
    redisAsyncSetDisconnectCallback(ac, &RedisClientCallbacks::onDisconnect);
    m_connectDeadline = m_clock.elapsed() + m_endpoint.timeoutMs;
    m_deadlines.start();
}

void RedisClient::onConnected(int status)
{
    if (status != REDIS_OK) {
        // hiredis frees the context after this returns.
        const QString why = QString::fromLocal8Bit(m_context->errstr);
        m_context = nullptr;
        retireAdapter();
        lostAndRetry(u"connect failed"_s, why);
        return;
    }
    handshake();
}

void RedisClient::handshake()
{
    // AUTH, SELECT and a PING in one pipeline; the PING's answer says we may go.
    auto refuse = [this](const QString &why) {
        m_lastError = why;
        m_refused = true;
        qCWarning(lcRedis) << m_role << why;
        Q_EMIT refused(why);
        dropConnection(why, true);
    };
    if (!m_endpoint.password.isEmpty()) {
        QByteArrayList auth{"AUTH"};
        if (!m_endpoint.user.isEmpty())
            auth << m_endpoint.user.toUtf8();
        auth << m_endpoint.password.toUtf8();
        send(auth, [refuse](Result<RedisReply> r) {
            if (r && r->isError())
                refuse(u"Redis refused the password (%1)"_s.arg(QString::fromUtf8(r->text)));
        }, 0);
    }
    if (m_endpoint.db != 0) {
        send({"SELECT", QByteArray::number(m_endpoint.db)}, [refuse, db = m_endpoint.db](Result<RedisReply> r) {
            if (r && r->isError())
                refuse(u"Redis refused database %1 (%2)"_s.arg(db).arg(QString::fromUtf8(r->text)));
        }, 0);
    }
    QPointer<RedisClient> self(this);
    send({"PING"}, [this, self, refuse](Result<RedisReply> r) {
        if (!self || !r || m_state != State::Connecting)
            return;
        if (r->isError()) {
            const QString text = QString::fromUtf8(r->text);
            refuse(text.startsWith("NOAUTH"_L1) ? u"Redis wants a password: give it as redis://:PASSWORD@host:port"_s
                                                : u"Redis refused the connection (%1)"_s.arg(text));
            return;
        }
        m_state = State::Ready;
        m_backoffMs = 0;
        m_refused = false;
        m_lastError.clear();
        qCDebug(lcRedis) << m_role << "ready on" << m_endpoint.display();
        Q_EMIT ready();
    }, 0);
}

void RedisClient::onDisconnected(int status)
{
    Q_UNUSED(status);
    // hiredis has already answered every pending callback with no reply and
    // cleaned the adapter up; it frees the context after this returns.
    const QString why = m_context && m_context->errstr[0] ? QString::fromLocal8Bit(m_context->errstr) : u"the connection was closed"_s;
    m_context = nullptr;
    retireAdapter();
    failAll(std::exchange(m_pending, {}), why);
    if (m_stopping) {
        m_state = State::Disconnected;
        return;
    }
    lostAndRetry(u"disconnected"_s, why);
}

void RedisClient::lostAndRetry(const QString &what, const QString &why)
{
    m_state = State::Disconnected;
    m_lastError = why;
    qCDebug(lcRedis) << m_role << what << why;
    Q_EMIT connectionLost(unavailable(why).message);
    m_backoffMs = m_backoffMs ? qMin(m_backoffMs * 2, MaxBackoffMs) : FirstBackoffMs;
    m_reconnect.start(m_backoffMs);
}

void RedisClient::dropConnection(const QString &reason, bool reconnect)
{
    QHash<quint64, Pending> pending = std::exchange(m_pending, {});
    if (redisAsyncContext *ac = std::exchange(m_context, nullptr)) {
        redisAsyncFree(ac);  // answers its callbacks with no reply; they are no longer ours
        retireAdapter();
    }
    const bool wasUp = m_state != State::Disconnected;
    m_state = State::Disconnected;
    m_deadlines.stop();
    failAll(std::move(pending), reason);
    if (!reconnect || m_stopping)
        return;
    m_lastError = reason;
    if (wasUp)
        Q_EMIT connectionLost(unavailable(reason).message);
    m_backoffMs = m_refused ? MaxBackoffMs : (m_backoffMs ? qMin(m_backoffMs * 2, MaxBackoffMs) : FirstBackoffMs);
    m_reconnect.start(m_backoffMs);
}

void RedisClient::retireAdapter()
{
    if (RedisQtAdapter *adapter = std::exchange(m_adapter, nullptr))
        retire(adapter);
}

void RedisClient::failAll(QHash<quint64, Pending> pending, const QString &reason)
{
    if (pending.isEmpty())
        return;
    // In the order they were sent, and never from inside hiredis.
    std::vector<std::pair<quint64, Callback>> ordered;
    for (auto it = pending.begin(); it != pending.end(); ++it)
        ordered.emplace_back(it.key(), std::move(it->callback));
    std::sort(ordered.begin(), ordered.end(), [](const auto &a, const auto &b) { return a.first < b.first; });
    const Error error = unavailable(reason);
    if (m_stopping) {  // no event loop turn left: answer now, so that no future is left waiting
        for (auto &entry : ordered)
            entry.second(error);
        return;
    }
    QMetaObject::invokeMethod(this, [ordered = std::move(ordered), error]() mutable {
        for (auto &entry : ordered)
            entry.second(error);
    }, Qt::QueuedConnection);
}

void RedisClient::checkDeadlines()
{
    const qint64 now = m_clock.elapsed();
    if (m_state == State::Connecting && m_pending.isEmpty() && now > m_connectDeadline) {
        dropConnection(u"no connection within %1 ms"_s.arg(m_endpoint.timeoutMs), true);
        return;
    }
    for (const Pending &p : std::as_const(m_pending)) {
        if (now > p.deadline) {
            dropConnection(u"no reply within %1 ms"_s.arg(p.timeoutMs), true);
            return;
        }
    }
    if (m_pending.isEmpty() && m_state != State::Connecting)
        m_deadlines.stop();
}

void appendCommandResp(QByteArray &out, const QByteArrayList &args)
{
    // A count's line ("*3\r\n", "$12\r\n") without a temporary.
    const auto line = [&out](char kind, qsizetype n) {
        char buf[24];
        buf[0] = kind;
        char *end = std::to_chars(buf + 1, buf + sizeof buf - 2, n).ptr;
        *end++ = '\r';
        *end++ = '\n';
        out.append(buf, end - buf);
    };
    line('*', args.size());
    for (const QByteArray &a : args) {
        line('$', a.size());
        out.append(a).append("\r\n", 2);
    }
}

void RedisClient::command(const QByteArrayList &args, Callback callback, int timeoutMs)
{
    if (m_state != State::Ready) {
        const Error error = unavailable(m_lastError.isEmpty() ? u"not connected"_s : m_lastError);
        QMetaObject::invokeMethod(this, [callback = std::move(callback), error] { callback(error); }, Qt::QueuedConnection);
        return;
    }
    send(args, std::move(callback), timeoutMs);
}

void RedisClient::commandWithoutReply(const QByteArrayList &args)
{
    if (m_state != State::Ready)
        return;
    RedisArgv a(args);
    // No callback: hiredis reads the reply in its turn and frees it.
    redisAsyncCommandArgv(m_context, nullptr, nullptr, a.count(), a.argv.data(), a.lengths.data());
}

void RedisClient::send(const QByteArrayList &args, Callback callback, int timeoutMs)
{
    RedisArgv a(args);  // hiredis takes its pointers as non-const
    const quint64 seq = m_nextSeq++;
    const int status = redisAsyncCommandArgv(m_context, &RedisClientCallbacks::onReply, reinterpret_cast<void *>(quintptr(seq)),
                                             a.count(), a.argv.data(), a.lengths.data());
    if (status != REDIS_OK) {
        const Error error = unavailable(u"the command could not be sent"_s);
        QMetaObject::invokeMethod(this, [callback = std::move(callback), error] { callback(error); }, Qt::QueuedConnection);
        return;
    }
    const int timeout = timeoutMs > 0 ? timeoutMs : m_endpoint.timeoutMs;
    m_pending.insert(seq, Pending{std::move(callback), m_clock.elapsed() + timeout, timeout});
    if (!m_deadlines.isActive())
        m_deadlines.start();
}

void RedisClient::onReply(quint64 seq, void *reply)
{
    auto it = m_pending.find(seq);
    if (it == m_pending.end())
        return;  // timed out or failed already
    Callback callback = std::move(it->callback);
    m_pending.erase(it);
    if (!reply) {
        callback(unavailable(u"the connection was lost before the reply"_s));
        return;
    }
    callback(toRedisReply(static_cast<const redisReply *>(reply)));
}

} // namespace eventdesk

// The adapter's moc output, compiled here where the header came in through the
// system include path (hiredis's own headers are not -Wpedantic clean).
#include "adapters/moc_qt.cpp"
