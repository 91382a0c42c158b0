#include "Ports.h"

#include "EngineMessages.h"

#include "EventCodec.h"
#include "ModelLog.h"
#include "Timestamp.h"

#include <QJsonDocument>
#include <QPointer>

using namespace Qt::StringLiterals;

namespace eventdesk {

void StoredEvent::decode()
{
    Result<AppEvent> r = codec::decode(payload);
    if (!r && r.error().field == "type"_L1 && r.error().code == ErrorCode::InvalidEvent
        && catalog::kindFromName(eventType)) {
        // The payload is an untagged object: the event_type column names the variant.
        Result<QJsonObject> o = codec::parseObject(payload);
        if (o && !o->contains("type"_L1) && o->size() != 1) {
            QJsonObject tagged = *o;
            tagged.insert("type"_L1, eventType);
            r = codec::fromJson(tagged);
        }
    }
    if (r) {
        event = std::move(r).value();
        decodeError.clear();
        engineTag.clear();
    } else {
        event.reset();
        decodeError = r.error().message;
        // A message of today's engine this EventDesk knows (an unknown tag is
        // known as one when the store says the row was recorded).
        if (engine::areaOf(eventType) && payload.contains(eventType.toUtf8())) {
            engineTag = eventType;
            // Some say their world themselves (TimeModeChanged, a recording's gap, …).
            if (const Result<QJsonObject> o = codec::parseObject(payload); o && o->value("world_id"_L1).isString())
                recordedWorld = o->value("world_id"_L1).toString();
        }
    }
}

QFuture<BatchPublishResult> EventStore::appendRecorded(const QList<RecordedRow> &)
{
    return QtFuture::makeReadyFuture(BatchPublishResult(
        Error{ErrorCode::Usage, {}, QStringLiteral("this event store cannot keep recorded messages")}));
}

bool EventQuery::matches(const StoredEvent &row) const
{
    if (afterId > 0 && row.id <= afterId)
        return false;
    if (beforeId > 0 && row.id >= beforeId)
        return false;
    if (!kinds.isEmpty() || !tags.isEmpty()) {
        const std::optional<EventKind> meant = row.isEngineMessage() ? engine::appEventKind(row.engineTag) : std::nullopt;
        const bool kept = (row.event && kinds.contains(row.event->kind())) || (meant && kinds.contains(*meant))
            || (row.isEngineMessage() && tags.contains(row.engineTag));
        if (!kept)
            return false;
    }
    if (kinds.isEmpty() && tags.isEmpty() && !includeUndecodable && !row.event)
        return false;
    if (!worlds.isEmpty() && !worlds.contains(row.worldId()))
        return false;
    if (createdFrom || createdTo) {
        const std::optional<qint64> at = row.createdAtText.isEmpty() && row.createdAt.isValid()
            ? std::optional(timestamp::nanos(row.createdAt))
            : timestamp::parseNanos(row.createdAtText);
        if (!at || (createdFrom && *at < *createdFrom) || (createdTo && *at >= *createdTo))
            return false;
    }
    if (!text.isEmpty()) {
        const QString payload = QString::fromUtf8(row.payload);
        if (!payload.contains(text, Qt::CaseInsensitive)
            && std::none_of(textAlso.cbegin(), textAlso.cend(), [&](const QString &also) { return payload.contains(also, Qt::CaseInsensitive); }))
            return false;
    }
    return true;
}

QStringList EventQuery::typeNames() const
{
    QStringList names;
    for (EventKind k : kinds) {
        names.append(catalog::name(k));
        // The engine's message of that type, as eventdesk record keeps it.
        if (const QString engineName = catalog::messageName(k); engineName != names.last())
            names.append(engineName);
    }
    for (const QString &t : tags)
        if (!names.contains(t))
            names.append(t);
    return names;
}

std::optional<Error> validate(const AppEvent &event)
{
    return codec::check(event);
}

StoreEventBus::StoreEventBus(EventStore &store, Notifier &notifier)
    : m_store(store)
    , m_notifier(notifier)
{
}

namespace {

// What the codec would not read back, said once: the event (the `at`th of
// `of`, when there are several).
std::optional<Error> refusal(const AppEvent &event, qsizetype at = 0, qsizetype of = 1)
{
    std::optional<Error> e = validate(event);
    if (!e)
        return e;
    if (of > 1)
        e->message = u"event %1 of %2: "_s.arg(at + 1).arg(of) + e->message;
    qCWarning(lcModel).noquote() << "publish refused:" << e->message;
    return e;
}

// The first such event of a batch.
std::optional<Error> refusal(const QList<AppEvent> &events)
{
    for (qsizetype i = 0; i < events.size(); ++i) {
        if (auto e = refusal(events.at(i), i, events.size()))
            return e;
    }
    return std::nullopt;
}

// After the append (the store may finish it while its owner tears down: a
// store drains its queue in its destructor).
void announce(const QPointer<Notifier> &notifier, const BatchPublishResult &r)
{
    if (!r)
        announceAppended(notifier, r.error());
    else if (!r->isEmpty())
        announceAppended(notifier, r->last());
}

} // namespace

void announceAppended(const QPointer<Notifier> &notifier, const Result<qint64> &lastId)
{
    if (lastId && notifier)
        notifier->notifyAppended(*lastId);
    else if (!lastId)
        qCWarning(lcModel).noquote() << "publish failed:" << lastId.error().message;
}

// One continuation, not publishBatch's and another for the single id.
QFuture<PublishResult> EventStore::appendOne(const AppEvent &event, Notifier *notifier)
{
    return append({event}).then([notifier = QPointer<Notifier>(notifier)](const BatchPublishResult &r) -> PublishResult {
        announce(notifier, r);
        if (!r)
            return r.error();
        return r->first();
    });
}

// The publish a producer makes and waits for, many thousand times a second:
// the store answers it as cheaply as it can (EventStore::appendOne).
QFuture<PublishResult> StoreEventBus::publish(const AppEvent &event)
{
    if (auto e = refusal(event))
        return QtFuture::makeReadyFuture(PublishResult(*e));
    return m_store.appendOne(event, &m_notifier);
}

QFuture<BatchPublishResult> StoreEventBus::publishBatch(const QList<AppEvent> &events)
{
    if (events.isEmpty())
        return QtFuture::makeReadyFuture(BatchPublishResult(QList<qint64>{}));
    if (auto e = refusal(events))
        return QtFuture::makeReadyFuture(BatchPublishResult(*e));
    return m_store.append(events).then([notifier = QPointer<Notifier>(&m_notifier)](const BatchPublishResult &r) {
        announce(notifier, r);
        return r;
    });
}

} // namespace eventdesk
