// Join: the secret checked (a throttled address waits), the client admitted
// to its world, and what it missed or the latest events sent first.
#include "SessionHandlers.h"

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

template <>
void SessionServer::handle<protocol::Join>(Client *c, const protocol::Join &m)
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

} // namespace eventdesk
