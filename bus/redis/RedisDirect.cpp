#include "RedisDirect.h"

#include "BusLog.h"

#include <hiredis/hiredis.h>

#include <poll.h>
#include <sys/time.h>


using namespace Qt::StringLiterals;

namespace eventdesk {

namespace {

timeval toTimeval(int ms)
{
    return timeval{ms / 1000, (ms % 1000) * 1000};
}

redisReply *run(redisContext *c, const QByteArrayList &args)
{
    RedisArgv a(args);  // hiredis takes its pointers as non-const
    return static_cast<redisReply *>(redisCommandArgv(c, a.count(), a.argv.data(), a.lengths.data()));
}

} // namespace

RedisDirect::RedisDirect(RedisEndpoint endpoint)
    : m_endpoint(std::move(endpoint))
{
}

RedisDirect::~RedisDirect()
{
    drop();
}

Error RedisDirect::unavailable(const QString &why) const
{
    return Error{ErrorCode::Unavailable, {}, u"Redis at %1:%2 is unavailable: %3"_s.arg(m_endpoint.host).arg(m_endpoint.port).arg(why)};
}

void RedisDirect::drop()
{
    if (m_context) {
        redisFree(m_context);
        m_context = nullptr;
    }
}

bool RedisDirect::connectNow(QString *why)
{
    const timeval timeout = toTimeval(m_endpoint.timeoutMs);
    m_context = redisConnectWithTimeout(m_endpoint.host.toUtf8().constData(), m_endpoint.port, timeout);
    if (!m_context || m_context->err) {
        *why = m_context ? QString::fromLocal8Bit(m_context->errstr) : u"out of memory"_s;
        drop();
        return false;
    }
    redisSetTimeout(m_context, timeout);
    QList<QByteArrayList> handshake;
    if (!m_endpoint.password.isEmpty()) {
        QByteArrayList auth{"AUTH"};
        if (!m_endpoint.user.isEmpty())
            auth << m_endpoint.user.toUtf8();
        handshake.append(auth << m_endpoint.password.toUtf8());
    }
    if (m_endpoint.db != 0)
        handshake.append({"SELECT", QByteArray::number(m_endpoint.db)});
    for (const QByteArrayList &args : std::as_const(handshake)) {
        redisReply *r = run(m_context, args);
        const bool refused = !r || r->type == REDIS_REPLY_ERROR;
        if (refused)
            *why = r ? QString::fromUtf8(r->str, qsizetype(r->len)) : QString::fromLocal8Bit(m_context->errstr);
        freeReplyObject(r);
        if (refused) {
            drop();
            return false;
        }
    }
    // May this user run transactions (an ACL may refuse MULTI)? Asked before
    // anything else goes on the connection: a MULTI refused in the middle of
    // a pipeline would leave its XADDs to run one by one, unprotected.
    redisReply *multi = run(m_context, {"MULTI"});
    m_transactions = multi && multi->type != REDIS_REPLY_ERROR;
    freeReplyObject(multi);
    redisReply *discard = m_transactions ? run(m_context, {"DISCARD"}) : nullptr;
    const bool answered = multi && (!m_transactions || discard);
    freeReplyObject(discard);
    if (!answered) {
        *why = QString::fromLocal8Bit(m_context->errstr);
        drop();
        return false;
    }
    ++m_connection;
    return true;
}

// An idle connection that has anything to read was closed by the server (a
// restart, its idle timeout) or is out of step: it is not used again.
bool RedisDirect::stale() const
{
    pollfd p{m_context->fd, POLLIN, 0};
    return ::poll(&p, 1, 0) != 0;
}

RedisDirect::Answer RedisDirect::command(const QByteArrayList &args)
{
    return pipeline({args});
}

RedisDirect::Answer RedisDirect::pipeline(const QList<QByteArrayList> &commands, quint64 onConnection)
{
    qsizetype bytes = 0;
    for (const QByteArrayList &args : commands)
        for (const QByteArray &a : args)
            bytes += a.size() + 16;
    QByteArray wire;
    wire.reserve(bytes + 16 * commands.size());
    for (const QByteArrayList &args : commands)
        appendCommandResp(wire, args);
    return pipeline(wire, commands.size(), onConnection);
}

RedisDirect::Answer RedisDirect::pipeline(const QByteArray &wire, qsizetype commands, quint64 onConnection)
{
    if (m_context && stale())
        drop();
    if (!m_context && onConnection != 0)
        return {Outcome::NotSent, unavailable(u"the connection was closed"_s)};
    if (!m_context) {
        QString why;
        if (!connectNow(&why)) {
            qCDebug(lcRedis) << "direct connection failed:" << why;
            return {Outcome::NotSent, unavailable(why)};
        }
    }
    if (onConnection != 0 && onConnection != m_connection)
        return {Outcome::NotSent, unavailable(u"the connection was closed"_s)};
    // The whole pipeline handed to hiredis at once.
    bool appended = redisAppendFormattedCommand(m_context, wire.constData(), size_t(wire.size())) == REDIS_OK;
    Answer answer{Outcome::Answered, {}, {}, m_connection};
    answer.replies.reserve(commands);
    for (qsizetype i = 0; appended && i < commands; ++i) {
        void *reply = nullptr;
        if (redisGetReply(m_context, &reply) != REDIS_OK || !reply) {
            appended = false;
            break;
        }
        auto *r = static_cast<redisReply *>(reply);
        answer.replies.append(toRedisReply(r));
        freeReplyObject(r);
    }
    if (!appended) {
        const QString why = m_context->err == REDIS_ERR_IO && (errno == EAGAIN || errno == ETIMEDOUT)
                                ? u"no reply within %1 ms"_s.arg(m_endpoint.timeoutMs)
                                : QString::fromLocal8Bit(m_context->errstr);
        // Whether a reply was read or not, a connection with an error is done.
        drop();
        return {Outcome::Lost, unavailable(why)};
    }
    return answer;
}

} // namespace eventdesk
