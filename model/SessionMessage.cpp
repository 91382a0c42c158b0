#include "SessionMessage.h"

#include "EventCodec.h"

#include <QJsonDocument>

using namespace Qt::StringLiterals;

namespace eventdesk::session {

namespace {

void key(QByteArray &out, const char *name)
{
    out += ",\"";
    out += name;
    out += "\":";
}

void text(QByteArray &out, const char *name, const QString &value)
{
    key(out, name);
    codec::appendString(out, value);
}

void integer(QByteArray &out, const char *name, qint64 value)
{
    key(out, name);
    out += QByteArray::number(value);
}

QString nameOf(const SessionEventMessage &meta, const QString &id)
{
    if (meta.names) {
        const auto it = meta.names->constFind(id);
        if (it != meta.names->constEnd() && !it->isEmpty())
            return *it;
    }
    return id;
}

void challengeFields(QByteArray &out, const events::ChallengeResolved &e, const SessionEventMessage &meta)
{
    // The engine's clients need all of these as integers: fill what the event lacks.
    const qint64 roll = e.roll.value_or(e.total.value_or(0));
    const qint64 total = e.total.value_or(roll);
    const qint64 modifier = e.roll && e.total ? total - roll : 0;
    const QString character = nameOf(meta, e.characterId);
    text(out, "challenge_id", e.challengeId.value_or(QString()));
    text(out, "challenge_name", e.challengeName);
    text(out, "character_name", character);
    integer(out, "roll", roll);
    integer(out, "modifier", modifier);
    integer(out, "total", total);
    text(out, "outcome", challengeOutcome(e));
    QString description = u"%1 %2 at %3"_s.arg(character, e.success ? u"succeeded"_s : u"failed"_s, e.challengeName);
    QString breakdown;
    if (e.roll && e.total) {
        breakdown = modifier == 0 ? u"1d20(%1) = %2"_s.arg(roll).arg(total)
                                  : u"1d20(%1) %2 %3 = %4"_s.arg(roll).arg(modifier < 0 ? u"-"_s : u"+"_s).arg(std::abs(modifier)).arg(total);
        description += u" (%1)"_s.arg(breakdown);
    }
    text(out, "outcome_description", description);
    key(out, "roll_breakdown");
    if (breakdown.isEmpty())
        out += "null";
    else
        codec::appendString(out, breakdown);
    key(out, "individual_rolls");
    out += e.roll ? '[' + QByteArray::number(*e.roll) + ']' : QByteArray("[]");
    // Then the event's own fields, the ones above excepted.
    text(out, "world_id", e.worldId);
    text(out, "character_id", e.characterId);
    key(out, "success");
    out += e.success ? "true" : "false";
    key(out, "session_id");
    if (e.sessionId)
        codec::appendString(out, *e.sessionId);
    else
        out += "null";
}

void narrativeFields(QByteArray &out, const events::NarrativeEventTriggered &e)
{
    text(out, "event_id", e.eventId);
    text(out, "event_name", e.eventName);
    text(out, "outcome_description", e.outcomeName);
    text(out, "scene_direction", QString());  // the log does not hold one
    text(out, "world_id", e.worldId);
    text(out, "outcome_name", e.outcomeName);
    key(out, "session_id");
    if (e.sessionId)
        codec::appendString(out, *e.sessionId);
    else
        out += "null";
}

} // namespace

QString challengeOutcome(const events::ChallengeResolved &e)
{
    if (e.roll == 20 && e.success)
        return u"critical_success"_s;
    if (e.roll == 1 && !e.success)
        return u"critical_failure"_s;
    return e.success ? u"success"_s : u"failure"_s;
}

QByteArray encodeEventMessage(const AppEvent &event, const SessionEventMessage &meta)
{
    QByteArray out;
    out.reserve(400);
    out += "{\"type\":";
    codec::appendString(out, catalog::messageName(event.kind()));
    integer(out, "seq", meta.seq);
    text(out, "created_at", meta.createdAt);
    key(out, "replay");
    out += meta.replay ? "true" : "false";
    static const QList<QLatin1StringView> reserved{"type"_L1, "seq"_L1, "created_at"_L1, "replay"_L1};
    if (const auto *c = event.as<events::ChallengeResolved>()) {
        challengeFields(out, *c, meta);
    } else if (const auto *n = event.as<events::NarrativeEventTriggered>()) {
        narrativeFields(out, *n);
    } else {
        codec::appendFields(out, event, reserved);
        out += '}';
        return out;
    }
    // Newer engines' extra fields, where they do not collide with the message's own.
    const QJsonObject &extra = event.extraFields();
    if (extra.isEmpty()) {
        out += '}';
        return out;
    }
    const QJsonObject written = QJsonDocument::fromJson(out + '}').object();
    for (auto it = extra.begin(); it != extra.end(); ++it) {
        if (written.contains(it.key()))
            continue;
        out += ',';
        codec::appendString(out, it.key());
        out += ':';
        codec::appendValue(out, it.value());
    }
    out += '}';
    return out;
}

QJsonObject eventMessage(const AppEvent &event, const SessionEventMessage &meta)
{
    return QJsonDocument::fromJson(encodeEventMessage(event, meta)).object();
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
