#include "RowFormat.h"
#include "EngineMessages.h"

#include "EventCodec.h"
#include "Timestamp.h"

using namespace Qt::StringLiterals;

namespace eventdesk::rows {

QByteArray toJsonLine(const StoredEvent &row)
{
    QByteArray out;
    out.reserve(row.payload.size() + 160);
    out += "{\"id\":";
    out += QByteArray::number(row.id);
    out += ",\"event_type\":";
    codec::appendString(out, row.eventType);
    out += ",\"created_at\":";
    codec::appendString(out, row.createdAtText);
    out += ",\"processed\":";
    out += row.processed ? "true" : "false";
    out += ",\"processed_at\":";
    if (row.processedAt.isValid())
        codec::appendString(out, timestamp::format(row.processedAt));
    else
        out += "null";
    out += ",\"event\":";
    if (row.event) {
        out += codec::encode(*row.event);
    } else {
        out += "null,\"raw\":";
        codec::appendString(out, QString::fromUtf8(row.payload));
        out += ",\"error\":";
        codec::appendString(out, row.decodeError);
        if (row.isEngineMessage()) {
            out += ",\"recorded\":{\"world_id\":";
            codec::appendString(out, row.worldId());
            out += '}';
        }
    }
    out += '}';
    return out;
}

Result<AppEvent> eventFromImportLine(QByteArrayView line)
{
    Result<QJsonObject> object = codec::parseObject(line);
    if (!object)
        return object.error();
    const QJsonObject &o = *object;
    // The row form has "event" and "id"; an AppEvent never has a field "event".
    if (o.contains("event"_L1) && o.contains("id"_L1)) {
        const QJsonValue event = o.value("event"_L1);
        if (event.isNull())
            return Error{ErrorCode::InvalidEvent, u"event"_s,
                         u"this row did not decode when it was exported: %1"_s.arg(o.value("error"_L1).toString().left(200))};
        if (!event.isObject())
            return Error{ErrorCode::InvalidEvent, u"event"_s, u"field \"event\" must be an object"_s};
        return codec::fromJson(event.toObject());
    }
    return codec::fromJson(o);
}

namespace {
// A time field of the row form: absent or null, or RFC 3339 text kept as written.
std::optional<Error> optionalTime(const QJsonObject &o, QLatin1StringView key, QString &out)
{
    const QJsonValue v = o.value(key);
    if (v.isUndefined() || v.isNull())
        return std::nullopt;
    if (!v.isString() || !timestamp::parseNanos(v.toString()))
        return Error{ErrorCode::InvalidEvent, QString(key), u"field \"%1\" must be an RFC 3339 time or null"_s.arg(key)};
    out = v.toString();
    return std::nullopt;
}
} // namespace

Result<ImportedRow> rowFromImportLine(QByteArrayView line)
{
    ImportedRow row;
    const Result<QJsonObject> parsed = codec::parseObject(line);
    if (parsed && parsed->value("recorded"_L1).isObject() && parsed->value("event"_L1).isNull()) {
        // A recorded message of today's engine, exported: its text as it came.
        const QJsonObject &o = *parsed;
        const QJsonValue raw = o.value("raw"_L1), type = o.value("event_type"_L1);
        const QJsonValue world = o.value("recorded"_L1).toObject().value("world_id"_L1);
        if (!raw.isString() || !type.isString() || type.toString().isEmpty() || !world.isString())
            return Error{ErrorCode::InvalidEvent, u"recorded"_s,
                         u"a recorded message needs \"event_type\", \"raw\" and \"recorded\":{\"world_id\"}"_s};
        row.recorded = EventStore::RecordedRow{type.toString(), raw.toString().toUtf8(), {}, world.toString()};
    } else {
        Result<AppEvent> event = eventFromImportLine(line);
        if (!event)
            return event.error();
        row.event = std::move(event).value();
    }
    const QJsonObject o = parsed.value();
    if (!(o.contains("event"_L1) && o.contains("id"_L1)))
        return row;
    const QJsonValue id = o.value("id"_L1);
    if (!id.isDouble() || id.toDouble() != double(id.toInteger()) || id.toInteger() < 1)
        return Error{ErrorCode::InvalidEvent, u"id"_s, u"field \"id\" must be a positive integer"_s};
    row.id = id.toInteger();
    if (auto e = optionalTime(o, "created_at"_L1, row.createdAt))
        return *e;
    const QJsonValue processed = o.value("processed"_L1);
    if (!processed.isUndefined() && !processed.isNull()) {
        if (!processed.isBool())
            return Error{ErrorCode::InvalidEvent, u"processed"_s, u"field \"processed\" must be true or false"_s};
        row.processed = processed.toBool();
    }
    if (auto e = optionalTime(o, "processed_at"_L1, row.processedAt))
        return *e;
    return row;
}

QByteArray csvHeader()
{
    return "id,created_at,event_type,world_id,session_id,summary,processed,processed_at,payload\r\n";
}

QByteArray csvField(const QString &value)
{
    QByteArray utf8 = value.toUtf8();
    if (!utf8.contains(',') && !utf8.contains('"') && !utf8.contains('\n') && !utf8.contains('\r'))
        return utf8;
    utf8.replace("\"", "\"\"");
    return '"' + utf8 + '"';
}

QByteArray toCsvRow(const StoredEvent &row)
{
    const QStringList fields = {
        QString::number(row.id),
        row.createdAtText,
        row.eventType,
        row.worldId(),
        row.event ? row.event->sessionId() : QString(),
        engine::rowSummary(row),
        row.processed ? u"true"_s : u"false"_s,
        row.processedAt.isValid() ? timestamp::format(row.processedAt) : QString(),
        QString::fromUtf8(row.payload),
    };
    QByteArray out;
    for (qsizetype i = 0; i < fields.size(); ++i) {
        if (i)
            out += ',';
        out += csvField(fields.at(i));
    }
    out += "\r\n";
    return out;
}

} // namespace eventdesk::rows
