// The AppEvent JSON codec (DESIGN §3). Encodes the engine's internally tagged
// form ({"type":"ChallengeResolved",...}); decodes that and the externally tagged
// form ({"ChallengeResolved":{...}}). Decoding is strict about what it needs and
// names the field at fault; unknown extra fields are kept.
#pragma once

#include "AppEvent.h"
#include "Result.h"

#include <QByteArray>
#include <QByteArrayView>
#include <QJsonObject>
#include <QJsonValue>
#include <QList>
#include <QLatin1StringView>

namespace eventdesk::codec {

inline constexpr qsizetype MaxDocumentBytes = 1024 * 1024;   // one event, as text
inline constexpr qsizetype MaxStringBytes = 64 * 1024;       // one string value, UTF-8
inline constexpr int MaxDepth = 32;                           // object/array nesting

// Text → one JSON object, with the limits above (size, depth, UTF-8, one object,
// nothing after it). Shared by every parser of untrusted JSON in EventDesk.
Result<QJsonObject> parseObject(QByteArrayView json, qsizetype maxBytes = MaxDocumentBytes);

Result<AppEvent> decode(QByteArrayView json);
Result<AppEvent> fromJson(const QJsonObject &object);   // either tagged form

// What decode() would reject in a value built in code: strings over 64 KiB,
// integers out of range, an empty event. nullopt when the event is fine.
std::optional<Error> check(const AppEvent &event);

// The engine's form: "type" first, then the catalog's fields in order, then extras.
QByteArray encode(const AppEvent &event);
QJsonObject toJson(const AppEvent &event);            // same content, as an object
// Appends ',"field":value' for each field in catalog order, then the extras:
// the body of encode() after "type". Keys in `reserved` belong to an enclosing
// message: extras with those names are left out, and a catalog field with one of
// them is written as "<category>_<name>" (NarrativeEventTriggered's event_id
// becomes narrative_event_id in a session message, whose event_id is the row id).
void appendFields(QByteArray &out, const AppEvent &event, const QList<QLatin1StringView> &reserved = {});
// Only the variant's own fields (no "type", no extras), in a JSON object.
QJsonObject fieldsToJson(const AppEvent &event);

// A small ordered JSON writer, used where key order matters (the engine's form,
// session messages) and to encode each message once.
void appendString(QByteArray &out, QStringView text);
void appendValue(QByteArray &out, const QJsonValue &value);

} // namespace eventdesk::codec
