// Publish and Replay: the DM's, through the bus and the fan-out.
#include "SessionHandlers.h"

#include "BusLog.h"

using namespace Qt::StringLiterals;

namespace eventdesk {

using PErr = protocol::ErrorCode;
using session::textFrame;

template <>
void SessionServer::handle<protocol::Publish>(Client *c, const protocol::Publish &m)
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

template <>
void SessionServer::handle<protocol::Replay>(Client *c, const protocol::Replay &m)
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
