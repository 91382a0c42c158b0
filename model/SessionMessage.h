// AppEvent → session protocol 2 message (DESIGN §5). Every message starts with
// the message name, the log position "seq", "created_at" exactly as stored and
// "replay". A message named like one of the engine's ServerMessage variants
// carries every field the engine's own clients require:
//
//   ChallengeResolved        challenge_id, challenge_name, character_name, roll,
//                            modifier, total, outcome, outcome_description,
//                            roll_breakdown, individual_rolls
//   NarrativeEventTriggered  event_id (the narrative event's id), event_name,
//                            outcome_description, scene_direction
//
// then the variant's own fields (extra fields are allowed by those clients).
// The other messages carry the variant's fields as they are. Encoded once per
// event and shared by every client that receives it.
#pragma once

#include "AppEvent.h"

#include <QByteArray>
#include <QHash>
#include <QJsonObject>
#include <QString>

namespace eventdesk {

struct SessionEventMessage {
    qint64 seq = 0;
    QString createdAt;  // the created_at column as written: never re-rounded
    bool replay = false;
    // Display names by id (characters, worlds), for the engine's character_name.
    const QHash<QString, QString> *names = nullptr;
};

namespace session {

QByteArray encodeEventMessage(const AppEvent &event, const SessionEventMessage &meta);
QJsonObject eventMessage(const AppEvent &event, const SessionEventMessage &meta);

// The engine's outcome for a resolved challenge: critical_success on a natural
// 20 that succeeds, critical_failure on a natural 1 that fails, else success/failure.
QString challengeOutcome(const events::ChallengeResolved &e);

// Who may receive an event (DESIGN §5 routing).
enum class Role { Player, Dm };
inline constexpr QStringView AllWorlds = u"*";
bool mayReceive(Role role, const QString &clientWorld, const AppEvent &event);
// Player-visible variants: story, narrative and challenge events of the player's world.
bool isPlayerVisible(EventKind kind);

} // namespace session
} // namespace eventdesk
