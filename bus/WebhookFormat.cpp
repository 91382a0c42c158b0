// The webhook's words and bodies (bus/Webhooks.h namespace webhook): which
// rows a rule takes, the message it says, the JSON a receiver gets.
#include "Webhooks.h"

#include "EngineMessages.h"
#include "EventCatalog.h"
#include "EventCodec.h"
#include "SessionMessage.h"
#include "Timestamp.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QUrl>

using namespace Qt::StringLiterals;

namespace eventdesk {

namespace webhook {

QString redact(const QString &url)
{
    const QUrl u(url);
    if (!u.isValid() || u.host().isEmpty())
        return u"(a URL)"_s;
    QString out = u.scheme() + u"://"_s + u.host();
    if (u.port() > 0)
        out += u':' + QString::number(u.port());
    if (!u.path().isEmpty() && u.path() != u"/"_s)
        out += u"/…"_s;
    return out;
}

std::optional<QString> checkUrl(const QString &url)
{
    const QUrl u(url, QUrl::StrictMode);
    if (url.size() > 2000)
        return u"the URL is longer than 2000 characters"_s;
    if (!u.isValid() || (u.scheme() != u"http"_s && u.scheme() != u"https"_s) || u.host().isEmpty())
        return u"the URL must be http:// or https:// with a host"_s;
    if (!u.userInfo().isEmpty())
        return u"the URL must not carry a user name or password"_s;
    return std::nullopt;
}

bool matches(const WebhookRule &rule, const StoredEvent &row)
{
    if (!rule.enabled)
        return false;
    if (row.isEngineMessage()) {
        // A recorded message of today's engine: by its tag, or the type it means.
        const auto meant = engine::appEventKind(row.engineTag);
        if (!rule.types.isEmpty() && !rule.types.contains(row.engineTag) && !(meant && rule.types.contains(catalog::name(*meant))))
            return false;
        return rule.worlds.isEmpty() || rule.worlds.contains(row.worldId());
    }
    if (!row.event)
        return false;
    if (!rule.types.isEmpty() && !rule.types.contains(catalog::name(row.event->kind())))
        return false;
    return rule.worlds.isEmpty() || rule.worlds.contains(row.event->worldId());
}

QString defaultTemplate(EventKind kind)
{
    switch (kind) {
    case EventKind::ChallengeResolved: return u"{character} {succeeded|failed} at {challenge} ({roll} → {total})"_s;
    case EventKind::NarrativeEventTriggered: return u"{event_name}: {outcome}"_s;
    default: return u"{summary}"_s;
    }
}

QString render(const QString &messageTemplate, const StoredEvent &row, const QHash<QString, QString> &names)
{
    if (messageTemplate.isEmpty() && row.isEngineMessage())
        return engine::rowSummary(row, &names).left(2000);
    const QString text = messageTemplate.isEmpty() && row.event ? defaultTemplate(row.event->kind()) : messageTemplate;
    // A recorded engine message's own fields fill the template (its ChallengeResolved
    // has character_name, roll, total, modifier, outcome as the session's does).
    const QJsonObject message = row.event ? session::eventMessage(*row.event, {row.id, row.createdAtText, false, &names})
                                : row.isEngineMessage() ? QJsonDocument::fromJson(row.payload).object()
                                                        : QJsonObject();
    const auto field = [&message](const char *name) {
        const QJsonValue v = message.value(QLatin1StringView(name));
        return v.isDouble() ? QString::number(v.toInteger()) : v.toString();
    };
    const QString world = row.worldId();
    const QHash<QString, QString> values = {
        {u"character"_s, field("character_name")},
        {u"challenge"_s, field("challenge_name")},
        {u"roll"_s, field("roll")},
        {u"total"_s, field("total")},
        {u"modifier"_s, field("modifier")},
        {u"succeeded|failed"_s, message.value(u"success"_s).toBool() || message.value(u"outcome"_s).toString().contains(u"success"_s)
                                    ? u"succeeded"_s : u"failed"_s},
        {u"world"_s, names.value(world, world)},
        {u"type"_s, row.eventType},
        {u"summary"_s, engine::rowSummary(row, &names)},
        {u"event_name"_s, field("event_name")},
        {u"outcome"_s, field("outcome_name")},
        {u"id"_s, QString::number(row.id)},
    };
    QString out;
    out.reserve(text.size() + 64);
    for (qsizetype i = 0; i < text.size(); ++i) {
        const qsizetype close = text.at(i) == u'{' ? text.indexOf(u'}', i) : -1;
        const auto it = close > i ? values.constFind(text.mid(i + 1, close - i - 1)) : values.constEnd();
        if (it == values.constEnd()) {
            out += text.at(i);
            continue;
        }
        out += *it;
        i = close;
    }
    return out.left(2000);
}

QByteArray body(const WebhookRule &rule, const StoredEvent &row, const QHash<QString, QString> &names)
{
    const QString text = render(rule.messageTemplate, row, names);
    if (rule.format == u"discord"_s) {
        // Discord's incoming webhook: content (≤ 2000), embeds (≤ 10; title ≤ 256, description ≤ 4096).
        QJsonObject embed{{u"title"_s, (row.event ? catalog::name(row.event->kind()) : row.eventType).left(256)},
                          {u"description"_s, text.left(4096)},
                          {u"footer"_s, QJsonObject{{u"text"_s, u"EventDesk · event %1"_s.arg(row.id)}}}};
        if (row.createdAt.isValid())
            embed.insert(u"timestamp"_s, row.createdAt.toUTC().toString(Qt::ISODateWithMs));
        if (row.event) {
            const Category c = catalog::category(row.event->kind());
            embed.insert(u"color"_s, c == Category::Challenge ? 0xd9822b : c == Category::Narrative ? 0x8e5bb5 : 0x3b82c4);
        }
        return QJsonDocument(QJsonObject{{u"content"_s, text}, {u"embeds"_s, QJsonArray{embed}}}).toJson(QJsonDocument::Compact);
    }
    if (rule.format == u"slack"_s) {
        return QJsonDocument(QJsonObject{
                                 {u"text"_s, text},
                                 {u"blocks"_s, QJsonArray{QJsonObject{{u"type"_s, u"section"_s},
                                                                      {u"text"_s, QJsonObject{{u"type"_s, u"mrkdwn"_s},
                                                                                              {u"text"_s, text.left(3000)}}}}}}})
            .toJson(QJsonDocument::Compact);
    }
    QJsonObject out{{u"event_id"_s, row.id},
                    {u"event_type"_s, row.eventType},
                    {u"created_at"_s, row.createdAtText},
                    {u"text"_s, text}};
    const QJsonDocument payload = QJsonDocument::fromJson(row.payload);
    out.insert(u"event"_s, payload.isObject() ? QJsonValue(payload.object()) : QJsonValue());
    return QJsonDocument(out).toJson(QJsonDocument::Compact);
}

StoredEvent sample()
{
    StoredEvent row;
    row.id = 0;
    events::ChallengeResolved e;
    e.challengeId = u"sample-challenge"_s;
    e.challengeName = u"Pick the lock"_s;
    e.worldId = u"sample-world"_s;
    e.characterId = u"Aria"_s;
    e.success = true;
    e.roll = 14;
    e.total = 17;
    row.event = AppEvent(e);
    row.eventType = catalog::name(EventKind::ChallengeResolved);
    row.payload = codec::encode(*row.event);
    row.createdAt = QDateTime::currentDateTimeUtc();
    row.createdAtText = timestamp::format(row.createdAt);
    return row;
}

int backoffSeconds(int attempts)
{
    return int(std::min<qint64>(600, qint64(1) << std::clamp(attempts - 1, 0, 20)));
}

} // namespace webhook

} // namespace eventdesk
