// The session server's handlers: what each client message does. Rolls go
// through the producer (ChallengeService), publishes through the bus.
#include "SessionClient.h"

#include "Ids.h"
#include "Logging.h"
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

void SessionServer::handle(Client *c, const protocol::Join &m)
{
    const QString expected = m.role == session::Role::Dm ? m_config.dmToken : joinCodeFor(m.worldId);
    const bool right = constantTimeEquals(m.secret, expected);
    const QString address = c->address.toString();
    const int delay = joinDelayMs(address, right);
    if (!right) {
        // Counted now, so that guesses sent side by side escalate too.
        if (m_joinFailures.size() >= 4096 && !m_joinFailures.contains(address))
            m_joinFailures.erase(m_joinFailures.begin());  // bounded, whatever a scanner does
        JoinFailures &f = m_joinFailures[address];
        ++f.count;
        f.lastMs = nowMs();
    }
    if (delay == 0) {
        decideJoin(c->info.id, m);
        return;
    }
    c->judging = true;
    QTimer::singleShot(delay, this, [this, id = c->info.id, m] { decideJoin(id, m); });
}

void SessionServer::decideJoin(const QString &clientId, const protocol::Join &m)
{
    Client *c = find(clientId);
    if (!c || c->closing)
        return;
    c->judging = false;
    const QString role = protocol::roleName(m.role);
    const QString expected = m.role == session::Role::Dm ? m_config.dmToken : joinCodeFor(m.worldId);
    if (!constantTimeEquals(m.secret, expected)) {
        const QString why = m.role == session::Role::Dm ? u"wrong DM token"_s : u"wrong join code"_s;
        recordRefusal(c->address.toString(), role, m.worldId, why);
        sendError(c, PErr::Unauthorized, why);
        closeClient(c, ClosePolicy, u"unauthorized"_s);
        return;
    }
    if (m.role == session::Role::Player && !m_worlds.contains(m.worldId)) {
        // Not among the worlds seen so far: the log may have it since (another
        // process wrote it), else it is no world of this table.
        m_store.distinctWorlds().then(this, [this, clientId, m](const Result<QStringList> &worlds) {
            Client *c = find(clientId);
            if (!c || c->closing)
                return;
            if (worlds && worlds->contains(m.worldId)) {
                openWorld(m.worldId);
                admit(c, m);
                return;
            }
            const QString why = u"no such world: its log has no event yet, and the DM has not opened it for hosting"_s;
            recordRefusal(c->address.toString(), protocol::roleName(m.role), m.worldId, why);
            sendError(c, PErr::NotFound, why);
            closeClient(c, ClosePolicy, u"no such world"_s);
        });
        return;
    }
    admit(c, m);
}

void SessionServer::admit(Client *c, const protocol::Join &m)
{
    const QString role = protocol::roleName(m.role);
    if (clientCount() >= m_config.maxClients) {
        recordRefusal(c->address.toString(), role, m.worldId, u"the session is full"_s);
        sendError(c, PErr::Forbidden, u"the session is full (%1 clients); try again later"_s.arg(m_config.maxClients));
        // 1013 (try again later) would be apt, but Qt's own clients reject it as invalid.
        closeClient(c, ClosePolicy, u"session full"_s);
        return;
    }
    m_transport.admit(c->conn);
    c->info.joined = true;
    c->info.role = m.role;
    c->info.worldId = m.worldId;
    c->info.name = m.name;
    if (m.role == session::Role::Dm)
        c->tokens = m_config.dmBurst;
    send(c, textFrame(protocol::joined(c->info.id, m.role, m.worldId, m_liveHead, m_names.value(m.worldId))));
    qCInfo(lcSession).noquote() << role << printable(m.name) << "joined world" << printable(m.worldId) << "from"
                                << c->info.peer;
    Q_EMIT clientsChanged();
    if (m.lastEventId && *m.lastEventId < m_liveHead) {
        c->cursor = *m.lastEventId;
        backfill(c);
    } else if (!m.lastEventId && m.recent > 0) {
        c->cursor = m_liveHead;
        sendRecent(c, m.recent);
    } else {
        c->cursor = std::max(m_liveHead, m.lastEventId.value_or(0));
        c->live = true;
    }
}

// The latest events up to the client's cursor that it may see, oldest first;
// then whatever came since, as a resume would.
void SessionServer::sendRecent(Client *c, int count)
{
    EventQuery query;
    if (c->info.worldId != session::AllWorlds)
        query.worlds = c->info.role == session::Role::Dm ? QStringList{c->info.worldId, QString()}
                                                         : QStringList{c->info.worldId};
    if (c->info.role == session::Role::Player) {
        for (int k = 0; k < EventKindCount; ++k)
            if (session::isPlayerVisible(EventKind(k)))
                query.kinds.append(EventKind(k));
        query.includeUndecodable = false;
    }
    query.beforeId = c->cursor + 1;
    query.newestFirst = true;
    query.limit = count;
    const QString id = c->info.id;
    m_store.fetchPage(query).then(this, [this, id](const Result<QList<StoredEvent>> &rows) {
        Client *c = find(id);
        if (!c || c->closing)
            return;
        if (!rows) {
            qCWarning(lcSession).noquote() << "cannot read the latest events for client" << id << ":" << rows.error().message;
        } else {
            for (auto it = rows->crbegin(); it != rows->crend(); ++it)
                if (it->event && it->id <= c->cursor && session::mayReceive(c->info.role, c->info.worldId, *it->event))
                    if (!send(c, textFrame(session::encodeEventMessage(*it->event, {it->id, it->createdAtText, false, &m_names}))))
                        return;
        }
        backfill(c);
    });
}

void SessionServer::handle(Client *c, const protocol::ListChallenges &)
{
    if (!m_challengeBook) {
        send(c, textFrame(protocol::challenges(c->info.worldId, {})));
        return;
    }
    const QString id = c->info.id;
    const QString world = c->info.worldId == session::AllWorlds ? QString() : c->info.worldId;
    m_challengeBook->challenges(world).then(this, [this, id](const Result<QList<Challenge>> &r) {
        Client *c = find(id);
        if (!c)
            return;
        if (!r) {
            sendError(c, PErr::NotFound, u"the challenges cannot be read: %1"_s.arg(r.error().message));
            return;
        }
        QList<protocol::ChallengeEntry> list;
        for (const Challenge &ch : r.value())
            list.append({ch.id, ch.name, ch.worldId, ch.difficulty});
        send(c, textFrame(protocol::challenges(c->info.worldId, list)));
    });
}

void SessionServer::handle(Client *c, const protocol::Ping &m)
{
    send(c, textFrame(protocol::pong(m.nonce)));
}

void SessionServer::handle(Client *c, const protocol::ChallengeRoll &m)
{
    if (!m_challengeBook) {
        sendError(c, PErr::NotFound, u"this session has no challenges"_s);
        return;
    }
    const QString id = c->info.id;
    m_challengeBook->challenge(m.challengeId).then(this, [this, id, m](const Result<std::optional<Challenge>> &r) {
        Client *c = find(id);
        if (!c)
            return;
        const bool visible = r && r.value()
            && (r.value()->worldId == c->info.worldId
                || (c->info.role == session::Role::Dm && c->info.worldId == session::AllWorlds));
        if (!visible) {
            sendError(c, PErr::NotFound, u"no challenge \"%1\" in world %2"_s.arg(m.challengeId.left(80), c->info.worldId));
            return;
        }
        const Challenge &ch = *r.value();
        // The engine wants UUIDs: a character the player named ("Aria") gets a
        // stable name-based id in that world, and its name is kept for display.
        QString characterId = m.characterId;
        if (!ids::isUuid(characterId)) {
            characterId = ids::characterUuid(ch.worldId, m.characterId);
            if (m_names.value(characterId) != m.characterId.trimmed()) {
                m_names.insert(characterId, m.characterId.trimmed());
                m_challengeBook->setDisplayName(u"character"_s, characterId, m.characterId);
            }
        }
        // The roll itself is the producer's (d20 + modifier against the difficulty).
        ChallengeRollOutcome outcome = m_challenges.resolve(ch.id, ch.name, ch.worldId, characterId, ch.difficulty,
                                                            m.modifier, m_config.sessionId);
        outcome.published.then(this, [this, id](const PublishResult &published) {
            if (Client *c = find(id)) {
                if (published)
                    send(c, textFrame(protocol::published(published.value())));
                else
                    sendError(c, PErr::BadMessage, u"the roll could not be recorded: %1"_s.arg(published.error().message));
            }
        });
    });
}

void SessionServer::handle(Client *c, const protocol::Publish &m)
{
    if (c->info.role != session::Role::Dm) {
        sendError(c, PErr::Forbidden, u"only a DM may publish"_s);
        return;
    }
    const QString world = m.event.worldId();
    if (c->info.worldId != session::AllWorlds && !world.isEmpty() && world != c->info.worldId) {
        sendError(c, PErr::Forbidden, u"a DM of world %1 may not publish to world %2"_s.arg(c->info.worldId, world));
        return;
    }
    const QString id = c->info.id;
    m_bus.publish(m.event).then(this, [this, id](const PublishResult &r) {
        Client *c = find(id);
        if (!c)
            return;
        if (r)
            send(c, textFrame(protocol::published(r.value())));
        else
            sendError(c, r.error().code == eventdesk::ErrorCode::InvalidEvent || r.error().code == eventdesk::ErrorCode::TooLarge
                             ? PErr::InvalidEvent
                             : PErr::BadMessage,
                      r.error().message);
    });
}

void SessionServer::handle(Client *c, const protocol::Replay &m)
{
    if (c->info.role != session::Role::Dm) {
        sendError(c, PErr::Forbidden, u"only a DM may replay"_s);
        return;
    }
    QString world = m.worldId;
    if (c->info.worldId != session::AllWorlds) {
        if (!world.isEmpty() && world != c->info.worldId) {
            sendError(c, PErr::Forbidden, u"a DM of world %1 may not replay world %2"_s.arg(c->info.worldId, world));
            return;
        }
        world = c->info.worldId;
    }
    const QString id = c->info.id;
    replay(m.fromEventId, m.toEventId, world, c->info.name).then(this, [this, id, m](const Result<int> &r) {
        Client *c = find(id);
        if (c && r)
            send(c, textFrame(protocol::replayed(m.fromEventId, m.toEventId, m_lastReplayEvents, r.value())));
        else if (c)
            sendError(c, r.error().code == eventdesk::ErrorCode::TooLarge ? PErr::TooLarge : PErr::NotFound,
                      r.error().message);
    });
}

} // namespace eventdesk
