// Today's engine (WrldBld/Game) keeps no log: it tells its clients everything
// over one WebSocket as JSON ServerMessages tagged by "type". `eventdesk record`
// keeps each one as a row (event_type = the tag, payload = the text exactly as
// received). This is what EventDesk knows of those messages: the area a tag
// belongs to, the tags that mean one of the eleven AppEvents, and a one-line
// summary. A tag this list does not know (a newer engine's) is still kept and
// shown, by its tag and key fields.
#pragma once

#include "EventCatalog.h"
#include "Ports.h"

#include <QHash>
#include <QJsonObject>
#include <QString>
#include <QStringList>

#include <optional>

namespace eventdesk::engine {

enum class Area {
    Conversation,
    Challenges,
    Narrative,
    Time,
    Staging,
    Scene,
    Items,
    Lore,
    Npcs,
    Goals,
    Generation,
    Actions,
    Session,
    Recording,  // EventDesk's own rows about the recording (a gap)
    Other,
};
inline constexpr int AreaCount = 15;

QString areaName(Area area);  // "conversation", "time", …
// The area of a tag this EventDesk knows; nullopt for one it does not.
std::optional<Area> areaOf(QStringView tag);
// Every tag of the engine's ServerMessage this EventDesk knows, in its areas' order.
const QStringList &knownTags();
QStringList tagsIn(Area area);

// The engine's messages that mean one of the AppEvents (ChallengeResolved,
// NarrativeEventTriggered, Generation*, Suggestion*): shown and filtered as that type.
std::optional<EventKind> appEventKind(QStringView tag);

// The row EventDesk writes when the recording was not connected for a while:
// a gap is never silent. Its payload holds world_id, from, to, engine, reason.
inline constexpr QLatin1StringView GapTag{"RecordingGap"};
QByteArray gapPayload(const QString &worldId, const QString &from, const QString &to, const QString &engineUrl,
                      const QString &reason);

// One line for the log: who did what, in words; names (id → display name) where known.
QString summary(QStringView tag, const QJsonObject &message, const QHash<QString, QString> *names = nullptr);
// Any row's line: an AppEvent's summary, a recorded message's, or why it does not decode.
QString rowSummary(const StoredEvent &row, const QHash<QString, QString> *names = nullptr);

} // namespace eventdesk::engine
