// A client's text frame: rate-limited, decoded, and handed to the handler of
// its message type (SessionHandlers.h lists them; each has a file of its own).
// And the back-off of addresses whose joins keep failing.
#include "SessionHandlers.h"

#include "Ids.h"
#include "BusLog.h"
#include "DeskPorts.h"
#include "Subscriber.h"

#include <QTimer>
#include <QUuid>

using namespace Qt::StringLiterals;

namespace eventdesk {

using PErr = protocol::ErrorCode;
using session::textFrame;
using namespace session_detail;

void SessionServer::onText(Client *c, const QByteArray &text)
{
    if (c->closing || c->judging)
        return;
    // Token bucket: about messagesPerSecond, bursts up to `burst`; a joined DM's is larger.
    const bool dm = c->info.joined && c->info.role == session::Role::Dm;
    const double rate = dm ? m_config.dmMessagesPerSecond : m_config.messagesPerSecond;
    const double burst = dm ? m_config.dmBurst : m_config.burst;
    const qint64 now = nowMs();
    c->tokens = std::min<double>(burst, c->tokens + double(now - c->lastRefillMs) * rate / 1000.0);
    c->lastRefillMs = now;
    if (c->tokens < 1.0) {
        if (++c->strikes >= m_config.floodLimit) {
            sendError(c, PErr::RateLimited, u"too many messages; closing"_s);
            closeClient(c, ClosePolicy, u"flooding"_s);
            return;
        }
        sendError(c, PErr::RateLimited, u"slow down: at most %1 messages a second"_s.arg(rate));
        return;
    }
    c->tokens -= 1.0;
    c->strikes = 0;

    const protocol::Decoded decoded = protocol::decodeClientMessage(text);
    if (const auto *err = std::get_if<protocol::ProtocolError>(&decoded)) {
        sendError(c, err->code, err->message);
        if (!c->info.joined) {
            recordRefusal(c->address.toString(), {}, {}, u"a first message that is not a valid Join"_s);
            closeClient(c, ClosePolicy, u"bad join"_s);
        }
        return;
    }
    const protocol::ClientMessage &message = std::get<protocol::ClientMessage>(decoded);
    const bool isJoin = std::holds_alternative<protocol::Join>(message);
    if (!c->info.joined && !isJoin) {
        sendError(c, PErr::Unauthorized, u"the first message must be a Join"_s);
        recordRefusal(c->address.toString(), {}, {}, u"a first message that is not a Join"_s);
        closeClient(c, ClosePolicy, u"no join"_s);
        return;
    }
    if (c->info.joined && isJoin) {
        sendError(c, PErr::BadMessage, u"already joined"_s);
        return;
    }
    std::visit([&](const auto &m) { handle(c, m); }, message);
}

// Failed joins from an address slow its next ones down, doubling each time (up
// to joinDelayMaxMs); an hour without failures forgets them. The right secret
// waits at most rightSecretDelayMaxMs: a DM locked out of their own table by a
// stranger's guesses would be worse than the guesses.
int SessionServer::joinDelayMs(const QString &address, bool rightSecret)
{
    auto it = m_joinFailures.find(address);
    if (it == m_joinFailures.end())
        return 0;
    if (nowMs() - it->lastMs > 3600 * 1000) {
        m_joinFailures.erase(it);
        return 0;
    }
    const int over = it->count - m_config.freeJoinFailures;
    if (over < 0)
        return 0;
    const qint64 delay = std::min<qint64>(m_config.joinDelayMaxMs, 250LL << std::min(over, 20));
    return int(rightSecret ? std::min<qint64>(delay, m_config.rightSecretDelayMaxMs) : delay);
}

QList<SessionServer::Throttled> SessionServer::throttledAddresses() const
{
    QList<Throttled> out;
    const qint64 now = nowMs();
    for (auto it = m_joinFailures.cbegin(); it != m_joinFailures.cend(); ++it) {
        const int over = it->count - m_config.freeJoinFailures;
        if (over < 0 || now - it->lastMs > 3600 * 1000)
            continue;
        out.append({it.key(), it->count, int(std::min<qint64>(m_config.joinDelayMaxMs, 250LL << std::min(over, 20)))});
    }
    std::sort(out.begin(), out.end(), [](const Throttled &a, const Throttled &b) { return a.failures > b.failures; });
    return out;
}

} // namespace eventdesk
