#include "SessionMessage.h"

#include "EventCodec.h"
#include "Timestamp.h"

using namespace Qt::StringLiterals;

namespace eventdesk::session {

QByteArray encodeEventMessage(const AppEvent &event, const SessionEventMessage &meta)
{
    QByteArray out;
    out.reserve(320);
    out += "{\"type\":";
    codec::appendString(out, catalog::messageName(event.kind()));
    out += ",\"event_id\":";
    out += QByteArray::number(meta.eventId);
    out += ",\"created_at\":";
    codec::appendString(out, timestamp::format(meta.createdAt));
    out += ",\"replay\":";
    out += meta.replay ? "true" : "false";

    codec::appendFields(out, event, {"event_id"_L1, "created_at"_L1, "replay"_L1});
    out += '}';
    return out;
}

QJsonObject eventMessage(const AppEvent &event, const SessionEventMessage &meta)
{
    QJsonObject o = event.extraFields();
    const QJsonObject fields = codec::fieldsToJson(event);
    for (auto it = fields.begin(); it != fields.end(); ++it) {
        const bool reserved = it.key() == "event_id"_L1 || it.key() == "created_at"_L1 || it.key() == "replay"_L1;
        o.insert(reserved ? catalog::categoryName(event.category()) + u'_' + it.key() : it.key(), it.value());
    }
    o.insert("type"_L1, catalog::messageName(event.kind()));
    o.insert("event_id"_L1, meta.eventId);
    o.insert("created_at"_L1, timestamp::format(meta.createdAt));
    o.insert("replay"_L1, meta.replay);
    return o;
}

bool isPlayerVisible(EventKind kind)
{
    const Category c = catalog::category(kind);
    return c == Category::Story || c == Category::Narrative || c == Category::Challenge;
}

bool mayReceive(Role role, const QString &clientWorld, const AppEvent &event)
{
    const QString world = event.worldId();
    if (role == Role::Player)
        return isPlayerVisible(event.kind()) && !world.isEmpty() && world == clientWorld;
    if (clientWorld == AllWorlds)
        return true;
    return world.isEmpty() || world == clientWorld;
}

} // namespace eventdesk::session
