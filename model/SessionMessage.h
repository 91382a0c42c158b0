// AppEvent → session protocol message (DESIGN §5): the message name from the
// catalog, event_id, created_at, replay, then the variant's fields. Encoded once
// per event and shared by every client that receives it.
#pragma once

#include "AppEvent.h"

#include <QByteArray>
#include <QDateTime>
#include <QJsonObject>

namespace eventdesk {

struct SessionEventMessage {
    qint64 eventId = 0;
    QDateTime createdAt;
    bool replay = false;
};

namespace session {

QByteArray encodeEventMessage(const AppEvent &event, const SessionEventMessage &meta);
QJsonObject eventMessage(const AppEvent &event, const SessionEventMessage &meta);

// Who may receive an event (DESIGN §5 routing).
enum class Role { Player, Dm };
inline constexpr QStringView AllWorlds = u"*";
bool mayReceive(Role role, const QString &clientWorld, const AppEvent &event);
// Player-visible variants: story, narrative and challenge events of the player's world.
bool isPlayerVisible(EventKind kind);

} // namespace session
} // namespace eventdesk
