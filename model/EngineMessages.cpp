#include "EngineMessages.h"

#include "EventCodec.h"

#include <QDateTime>
#include <QJsonArray>
#include <QJsonDocument>

using namespace Qt::StringLiterals;

namespace eventdesk::engine {

namespace {

struct TagArea {
    QLatin1StringView tag;
    Area area;
};

// The engine's ServerMessage tags (crates/shared/src/messages.rs), by area.
const QList<TagArea> &table()
{
    static const QList<TagArea> tags = {
        {"DialogueResponse"_L1, Area::Conversation}, {"ConversationStarted"_L1, Area::Conversation},
        {"ConversationEnded"_L1, Area::Conversation}, {"ActiveConversationsList"_L1, Area::Conversation},
        {"ConversationDetails"_L1, Area::Conversation}, {"ApproachEvent"_L1, Area::Conversation},
        {"ChallengePrompt"_L1, Area::Challenges}, {"ChallengeResolved"_L1, Area::Challenges},
        {"ChallengeRollSubmitted"_L1, Area::Challenges}, {"ChallengeOutcomePending"_L1, Area::Challenges},
        {"OutcomeSuggestionReady"_L1, Area::Challenges}, {"OutcomeBranchesReady"_L1, Area::Challenges},
        {"OutcomeRegenerated"_L1, Area::Challenges}, {"ChallengeDiscarded"_L1, Area::Challenges},
        {"AdHocChallengeCreated"_L1, Area::Challenges},
        {"NarrativeEventTriggered"_L1, Area::Narrative}, {"LocationEvent"_L1, Area::Narrative},
        {"SplitPartyNotification"_L1, Area::Narrative},
        {"GameTimeAdvanced"_L1, Area::Time}, {"GameTimeUpdated"_L1, Area::Time}, {"TimeSuggestion"_L1, Area::Time},
        {"TimeModeChanged"_L1, Area::Time}, {"GameTimePaused"_L1, Area::Time}, {"TimeConfigUpdated"_L1, Area::Time},
        {"StagingApprovalRequired"_L1, Area::Staging}, {"StagingPending"_L1, Area::Staging},
        {"StagingReady"_L1, Area::Staging}, {"StagingRegenerated"_L1, Area::Staging},
        {"StagingTimedOut"_L1, Area::Staging},
        {"SceneUpdate"_L1, Area::Scene}, {"SceneChanged"_L1, Area::Scene}, {"PcSelected"_L1, Area::Scene},
        {"MovementBlocked"_L1, Area::Scene}, {"NpcLocationShared"_L1, Area::Scene},
        {"VisualStateChanged"_L1, Area::Scene},
        {"ItemPickedUp"_L1, Area::Items}, {"ItemDropped"_L1, Area::Items}, {"ItemEquipped"_L1, Area::Items},
        {"ItemUnequipped"_L1, Area::Items}, {"InventoryUpdated"_L1, Area::Items},
        {"CharacterStatUpdated"_L1, Area::Items},
        {"LoreDiscovered"_L1, Area::Lore}, {"LoreRevoked"_L1, Area::Lore}, {"LoreUpdated"_L1, Area::Lore},
        {"CharacterLoreResponse"_L1, Area::Lore},
        {"NpcMoodChanged"_L1, Area::Npcs}, {"NpcDispositionChanged"_L1, Area::Npcs},
        {"NpcDispositionsResponse"_L1, Area::Npcs}, {"NpcWantCreated"_L1, Area::Npcs},
        {"NpcWantUpdated"_L1, Area::Npcs}, {"NpcWantDeleted"_L1, Area::Npcs}, {"WantTargetSet"_L1, Area::Npcs},
        {"WantTargetRemoved"_L1, Area::Npcs}, {"ActantialViewAdded"_L1, Area::Npcs},
        {"ActantialViewRemoved"_L1, Area::Npcs}, {"NpcActantialContextResponse"_L1, Area::Npcs},
        {"DeflectionSuggestions"_L1, Area::Npcs}, {"TellsSuggestions"_L1, Area::Npcs},
        {"WantDescriptionSuggestions"_L1, Area::Npcs}, {"ActantialReasonSuggestions"_L1, Area::Npcs},
        {"WorldGoalsResponse"_L1, Area::Goals}, {"GoalCreated"_L1, Area::Goals}, {"GoalUpdated"_L1, Area::Goals},
        {"GoalDeleted"_L1, Area::Goals},
        {"GenerationQueued"_L1, Area::Generation}, {"GenerationProgress"_L1, Area::Generation},
        {"GenerationComplete"_L1, Area::Generation}, {"GenerationFailed"_L1, Area::Generation},
        {"SuggestionQueued"_L1, Area::Generation}, {"SuggestionProgress"_L1, Area::Generation},
        {"SuggestionComplete"_L1, Area::Generation}, {"SuggestionFailed"_L1, Area::Generation},
        {"ComfyUIStateChanged"_L1, Area::Generation},
        {"ActionReceived"_L1, Area::Actions}, {"LLMProcessing"_L1, Area::Actions}, {"ActionQueued"_L1, Area::Actions},
        {"QueueStatus"_L1, Area::Actions}, {"ApprovalRequired"_L1, Area::Actions},
        {"ResponseApproved"_L1, Area::Actions},
        {"WorldJoined"_L1, Area::Session}, {"WorldJoinFailed"_L1, Area::Session}, {"UserJoined"_L1, Area::Session},
        {"UserLeft"_L1, Area::Session}, {"SpectateTargetChanged"_L1, Area::Session},
        {"EntityChanged"_L1, Area::Session}, {"Response"_L1, Area::Session}, {"Error"_L1, Area::Session},
        {"Pong"_L1, Area::Session},
        {GapTag, Area::Recording},
    };
    return tags;
}

QString str(const QJsonObject &o, QLatin1StringView key) { return o.value(key).toString(); }

QString num(const QJsonObject &o, QLatin1StringView key)
{
    const QJsonValue v = o.value(key);
    return v.isDouble() ? QString::number(v.toInteger()) : v.toString();
}

// A name for an id where the DM named it, else the id.
QString named(const QString &id, const QHash<QString, QString> *names)
{
    return names && names->contains(id) ? names->value(id) : id;
}

QString quoted(const QString &text)
{
    const QString flat = text.simplified();
    return u"“%1”"_s.arg(flat.size() > 160 ? flat.left(159) + u'…' : flat);
}

QString clock(const QJsonObject &time)
{
    return u"day %1, %2:%3"_s.arg(num(time, "day"_L1), num(time, "hour"_L1))
        .arg(time.value("minute"_L1).toInt(), 2, 10, QLatin1Char('0'));
}

QString duration(qint64 seconds)
{
    if (seconds % 3600 == 0)
        return u"%1 h"_s.arg(seconds / 3600);
    if (seconds % 60 == 0)
        return u"%1 min"_s.arg(seconds / 60);
    return u"%1 s"_s.arg(seconds);
}

QString namesOf(const QJsonArray &people, QLatin1StringView key)
{
    QStringList out;
    for (const QJsonValue &p : people)
        out.append(p.toObject().value(key).toString());
    out.removeAll(QString());
    return out.isEmpty() ? u"nobody"_s : out.join(u", "_s);
}

// A tag this EventDesk has no sentence for: the tag and a few telling fields.
QString generic(QStringView tag, const QJsonObject &o)
{
    static const QLatin1StringView telling[] = {"name"_L1, "npc_name"_L1, "pc_name"_L1, "character_name"_L1,
                                                "item_name"_L1, "title"_L1, "description"_L1, "text"_L1,
                                                "message"_L1, "reason"_L1, "status"_L1, "state"_L1};
    QStringList parts;
    for (QLatin1StringView key : telling)
        if (const QJsonValue v = o.value(key); v.isString() && !v.toString().isEmpty() && parts.size() < 3)
            parts.append(u"%1 %2"_s.arg(key, quoted(v.toString())));
    for (auto it = o.constBegin(); it != o.constEnd() && parts.size() < 3; ++it) {
        const QString &key = it.key();
        if (key == "type"_L1 || key.endsWith("_id"_L1) || key == "id"_L1)
            continue;
        if (std::any_of(std::begin(telling), std::end(telling), [&key](QLatin1StringView t) { return key == t; }))
            continue;  // said above
        if (it->isDouble() || it->isBool()) {
            parts.append(u"%1 %2"_s.arg(key, it->isBool() ? (it->toBool() ? u"yes"_s : u"no"_s) : QString::number(it->toDouble())));
        } else if (it->isString() && !it->toString().isEmpty() && it->toString().size() <= 60) {
            parts.append(u"%1 %2"_s.arg(key, it->toString()));
        } else if (it->isObject()) {
            // A nested thing by its name ("goal Revenge", "want Keep the inn safe").
            const QJsonObject inner = it->toObject();
            for (const char *n : {"name", "title", "description"})
                if (const QString v = inner.value(QLatin1StringView(n)).toString(); !v.isEmpty()) {
                    parts.append(u"%1 %2"_s.arg(key, quoted(v)));
                    break;
                }
        } else if (it->isArray() && !it->toArray().isEmpty()) {
            parts.append(u"%1 ×%2"_s.arg(key).arg(it->toArray().size()));
        }
    }
    return parts.isEmpty() ? tag.toString() : u"%1: %2"_s.arg(tag, parts.join(u", "_s));
}

} // namespace

QString areaName(Area area)
{
    switch (area) {
    case Area::Conversation: return u"conversation"_s;
    case Area::Challenges: return u"challenges"_s;
    case Area::Narrative: return u"narrative"_s;
    case Area::Time: return u"time"_s;
    case Area::Staging: return u"staging"_s;
    case Area::Scene: return u"scene"_s;
    case Area::Items: return u"items"_s;
    case Area::Lore: return u"lore"_s;
    case Area::Npcs: return u"NPCs"_s;
    case Area::Goals: return u"goals"_s;
    case Area::Generation: return u"generation"_s;
    case Area::Actions: return u"actions"_s;
    case Area::Session: return u"session"_s;
    case Area::Recording: return u"recording"_s;
    case Area::Other: return u"other"_s;
    }
    return u"other"_s;
}

std::optional<Area> areaOf(QStringView tag)
{
    for (const TagArea &t : table())
        if (t.tag == tag)
            return t.area;
    return std::nullopt;
}

const QStringList &knownTags()
{
    static const QStringList tags = [] {
        QStringList out;
        for (const TagArea &t : table())
            out.append(t.tag);
        return out;
    }();
    return tags;
}

QStringList tagsIn(Area area)
{
    QStringList out;
    for (const TagArea &t : table())
        if (t.area == area)
            out.append(t.tag);
    return out;
}

std::optional<EventKind> appEventKind(QStringView tag)
{
    if (tag == u"ChallengeResolved" || tag == u"NarrativeEventTriggered")
        return catalog::kindFromName(tag);
    return catalog::kindFromMessageName(tag);  // GenerationQueued → GenerationBatchQueued, …
}

QByteArray gapPayload(const QString &worldId, const QString &from, const QString &to, const QString &engineUrl,
                      const QString &reason)
{
    return QJsonDocument(QJsonObject{{u"type"_s, QString(GapTag)},
                                     {u"world_id"_s, worldId},
                                     {u"from"_s, from},
                                     {u"to"_s, to},
                                     {u"engine"_s, engineUrl},
                                     {u"reason"_s, reason}})
        .toJson(QJsonDocument::Compact);
}

QString summary(QStringView tag, const QJsonObject &o, const QHash<QString, QString> *names)
{
    const auto s = [&o](const char *key) { return str(o, QLatin1StringView(key)); };
    const auto n = [&o](const char *key) { return num(o, QLatin1StringView(key)); };
    if (tag == u"DialogueResponse")
        return u"%1: %2"_s.arg(s("speaker_name"), quoted(s("text")));
    if (tag == u"ConversationStarted")
        return u"A conversation with %1 begins"_s.arg(s("npc_name"));
    if (tag == u"ConversationEnded")
        return u"The conversation with %1 ends%2"_s.arg(s("npc_name"), s("summary").isEmpty() ? QString() : u": "_s + s("summary"));
    if (tag == u"ApproachEvent")
        return u"%1 approaches: %2"_s.arg(s("npc_name"), s("description"));
    if (tag == u"ApprovalRequired")
        return u"%1 would say %2 — waiting for the DM"_s.arg(s("npc_name"), quoted(s("proposed_dialogue")));
    if (tag == u"ResponseApproved")
        return u"Approved: %1"_s.arg(quoted(s("npc_dialogue")));
    if (tag == u"ActionQueued")
        return u"%1's %2 is queued (%3 waiting)"_s.arg(s("player_name"), s("action_type"), n("queue_depth"));
    if (tag == u"ChallengePrompt")
        return u"Challenge: %1 (%2, %3)"_s.arg(s("challenge_name"), s("skill_name"), s("difficulty_display"));
    if (tag == u"ChallengeResolved")
        return u"%1 — %2: %3 (%4 %5 %6 = %7)"_s.arg(s("character_name"), s("challenge_name"), s("outcome"), n("roll"),
                                                   o.value("modifier"_L1).toInt() < 0 ? u"−"_s : u"+"_s,
                                                   QString::number(std::abs(o.value("modifier"_L1).toInt())), n("total"));
    if (tag == u"ChallengeRollSubmitted")
        return u"Rolled %1 for %2 (%3), %4"_s.arg(n("total"), s("challenge_name"), s("outcome_type"), s("status"));
    if (tag == u"ChallengeOutcomePending")
        return u"%1's %2 (%3, %4) waits for the DM"_s.arg(s("character_name"), s("challenge_name"), n("total"), s("outcome_type"));
    if (tag == u"NarrativeEventTriggered")
        return u"%1: %2"_s.arg(s("event_name"), s("outcome_description"));
    if (tag == u"LocationEvent")
        return s("description");
    if (tag == u"GenerationQueued")
        return u"%1 of %2 queued (batch %3)"_s.arg(s("asset_type"), named(s("entity_id"), names), s("batch_id"));
    if (tag == u"GenerationProgress")
        return u"Batch %1: %2 %"_s.arg(s("batch_id"), n("progress"));
    if (tag == u"GenerationComplete")
        return u"Batch %1 done: %2 asset(s)"_s.arg(s("batch_id"), n("asset_count"));
    if (tag == u"GenerationFailed")
        return u"Batch %1 failed: %2"_s.arg(s("batch_id"), s("error"));
    if (tag == u"SuggestionComplete")
        return u"Suggestions for %1: %2"_s.arg(s("request_id"), QString::number(o.value("suggestions"_L1).toArray().size()));
    if (tag == u"SuggestionFailed")
        return u"Suggestion %1 failed: %2"_s.arg(s("request_id"), s("error"));
    if (tag == u"SceneChanged") {
        const QJsonObject region = o.value("region"_L1).toObject();
        return u"%1 is in %2 (%3); here: %4"_s.arg(named(s("pc_id"), names), str(region, "name"_L1),
                                                  str(region, "location_name"_L1),
                                                  namesOf(o.value("npcs_present"_L1).toArray(), "name"_L1));
    }
    if (tag == u"MovementBlocked")
        return u"%1 cannot go: %2"_s.arg(named(s("pc_id"), names), s("reason"));
    if (tag == u"GameTimeAdvanced") {
        const QJsonObject data = o.value("data"_L1).toObject();
        return u"Time advances %1 to %2 (%3)"_s.arg(duration(data.value("seconds_advanced"_L1).toInteger()),
                                                    clock(data.value("new_time"_L1).toObject()), str(data, "reason"_L1));
    }
    if (tag == u"GameTimePaused")
        return o.value("paused"_L1).toBool() ? u"Game time paused"_s : u"Game time runs again"_s;
    if (tag == u"TimeSuggestion") {
        const QJsonObject data = o.value("data"_L1).toObject();
        return u"Suggests %1 for %2: %3"_s.arg(duration(data.value("suggested_seconds"_L1).toInteger()),
                                              str(data, "pc_name"_L1), str(data, "action_description"_L1));
    }
    if (tag == u"StagingApprovalRequired")
        return u"Who is in %1 (%2)? Waiting for the DM"_s.arg(s("region_name"), s("location_name"));
    if (tag == u"StagingReady")
        return u"Staged: %1"_s.arg(namesOf(o.value("npcs_present"_L1).toArray(), "name"_L1));
    if (tag == u"ItemPickedUp")
        return u"%1 picks up %2"_s.arg(named(s("pc_id"), names), s("item_name"));
    if (tag == u"ItemDropped")
        return u"%1 drops %2 × %3"_s.arg(named(s("pc_id"), names), n("quantity"), s("item_name"));
    if (tag == u"ItemEquipped")
        return u"%1 equips %2"_s.arg(named(s("pc_id"), names), s("item_name"));
    if (tag == u"ItemUnequipped")
        return u"%1 unequips %2"_s.arg(named(s("pc_id"), names), s("item_name"));
    if (tag == u"CharacterStatUpdated")
        return u"%1's %2: %3 → %4 (%5)"_s.arg(s("character_name"), s("stat_name"), n("old_value"), n("new_value"), s("source"));
    if (tag == u"NpcMoodChanged")
        return u"%1's mood: %2 → %3"_s.arg(s("npc_name"), s("old_mood"), s("new_mood"));
    if (tag == u"NpcDispositionChanged")
        return u"%1 is now %2 towards %3 (%4)"_s.arg(s("npc_name"), s("disposition"), named(s("pc_id"), names), s("relationship"));
    if (tag == u"LoreDiscovered")
        return u"%1 discovers lore: %2"_s.arg(named(s("character_id"), names),
                                             str(o.value("lore"_L1).toObject(), "title"_L1));
    if (tag == u"UserJoined")
        return u"%1 joined as %2"_s.arg(s("user_id"), s("role"));
    if (tag == u"UserLeft")
        return u"%1 left"_s.arg(s("user_id"));
    if (tag == u"WorldJoined") {
        const QJsonObject world = o.value("snapshot"_L1).toObject().value("world"_L1).toObject();
        return u"Joined %1 as %2 (%3 connected)"_s.arg(str(world, "name"_L1).isEmpty() ? s("world_id") : str(world, "name"_L1),
                                                     s("your_role"))
            .arg(o.value("connected_users"_L1).toArray().size());
    }
    if (tag == u"EntityChanged") {
        const QString name = str(o.value("data"_L1).toObject(), "name"_L1);
        return u"%1 %2%3"_s.arg(s("entity_type"), s("change_type").toLower(), name.isEmpty() ? QString() : u": "_s + name);
    }
    if (tag == u"Error")
        return u"Engine error %1: %2"_s.arg(s("code"), s("message"));
    if (tag == GapTag) {
        const auto local = [](const QString &when) {
            const QDateTime t = QDateTime::fromString(when, Qt::ISODateWithMs);
            return t.isValid() ? t.toLocalTime().toString(u"HH:mm:ss"_s) : when;
        };
        return u"Not connected %1–%2: %3"_s.arg(local(s("from")), local(s("to")), s("reason"));
    }
    return generic(tag, o);
}

QString rowSummary(const StoredEvent &row, const QHash<QString, QString> *names)
{
    if (row.event)
        return row.event->summary();
    if (row.isEngineMessage()) {
        const Result<QJsonObject> o = codec::parseObject(row.payload, std::max<qsizetype>(row.payload.size(), 1));
        if (o)
            return summary(row.engineTag, o.value(), names);
        return u"%1 (as the engine sent it; not JSON)"_s.arg(row.engineTag);
    }
    return u"(undecodable: %1)"_s.arg(row.decodeError);
}

} // namespace eventdesk::engine
