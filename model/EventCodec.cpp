#include "EventCodec.h"
#include "JsonText.h"

#include "FieldWriting.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonParseError>
#include <QStringDecoder>
#include <QVariant>

using namespace Qt::StringLiterals;

namespace eventdesk::codec {

using namespace writing;

namespace {

Error badJson(const QString &message) { return Error{ErrorCode::BadJson, {}, message}; }

Error invalid(const QString &field, const QString &message)
{
    return Error{ErrorCode::InvalidEvent, field, message};
}

QString typeNameOf(const QJsonValue &v)
{
    switch (v.type()) {
    case QJsonValue::Null: return u"null"_s;
    case QJsonValue::Bool: return u"a bool"_s;
    case QJsonValue::Double: return u"a number"_s;
    case QJsonValue::String: return u"a string"_s;
    case QJsonValue::Array: return u"an array"_s;
    case QJsonValue::Object: return u"an object"_s;
    case QJsonValue::Undefined: break;
    }
    return u"nothing"_s;
}

// One pass over the raw text before the recursive parser sees it: nesting depth
// (stops at the first level past the limit, so a hostile document never
// recurses) and raw control characters inside strings, which JSON forbids and
// Qt's parser lets through.
std::optional<QString> structuralProblem(QByteArrayView json, int maxDepth)
{
    int depth = 0;
    bool inString = false;
    bool escaped = false;
    for (const char ch : json) {
        const auto c = static_cast<unsigned char>(ch);
        if (inString) {
            if (escaped)
                escaped = false;
            else if (c == '\\')
                escaped = true;
            else if (c == '"')
                inString = false;
            else if (c < 0x20)
                return u"raw control character in a string (must be escaped)"_s;
            continue;
        }
        switch (c) {
        case '"': inString = true; break;
        case '{':
        case '[':
            if (++depth > maxDepth)
                return u"JSON is nested deeper than %1 levels"_s.arg(maxDepth);
            break;
        case '}':
        case ']': --depth; break;
        default: break;
        }
    }
    return std::nullopt;
}

bool stringTooLong(const QString &s)
{
    // UTF-16 length bounds the UTF-8 length from both sides within 3x; only
    // compute the exact figure near the limit.
    if (s.size() <= MaxStringBytes / 3)
        return false;
    if (s.size() > MaxStringBytes)
        return true;
    return s.toUtf8().size() > MaxStringBytes;
}

std::optional<Error> checkStrings(const QJsonValue &v, const QString &field)
{
    if (v.isString()) {
        if (stringTooLong(v.toString()))
            return Error{ErrorCode::TooLarge, field,
                         u"field \"%1\" is longer than 64 KiB"_s.arg(field)};
    } else if (v.isArray()) {
        for (const QJsonValue &item : v.toArray()) {
            if (auto e = checkStrings(item, field))
                return e;
        }
    } else if (v.isObject()) {
        const QJsonObject o = v.toObject();
        for (auto it = o.begin(); it != o.end(); ++it) {
            if (auto e = checkStrings(it.value(), field))
                return e;
        }
    }
    return std::nullopt;
}

std::optional<Error> readString(const QJsonValue &v, const QString &field, QString &out)
{
    if (!v.isString())
        return invalid(field, u"field \"%1\" must be a string, not %2"_s.arg(field, typeNameOf(v)));
    out = v.toString();
    if (stringTooLong(out))
        return Error{ErrorCode::TooLarge, field,
                     u"field \"%1\" is longer than 64 KiB"_s.arg(field)};
    return std::nullopt;
}

std::optional<Error> readInteger(const QJsonValue &v, const FieldSpec &spec, qint64 &out)
{
    // Only integer literals: 14.5, 1e3 and numbers past 64 bits parse as doubles.
    if (!v.isDouble() || v.toVariant().typeId() != QMetaType::LongLong) {
        if (v.isDouble())
            return invalid(spec.name, u"field \"%1\" must be an integer in %2..%3"_s.arg(spec.name)
                                          .arg(spec.minimum).arg(spec.maximum));
        return invalid(spec.name, u"field \"%1\" must be an integer, not %2"_s.arg(spec.name, typeNameOf(v)));
    }
    out = v.toInteger();
    if (out < spec.minimum || out > spec.maximum)
        return invalid(spec.name, u"field \"%1\" is out of range: %2 is not in %3..%4"_s
                                      .arg(spec.name).arg(out).arg(spec.minimum).arg(spec.maximum));
    return std::nullopt;
}

const FieldSpec &fieldSpec(EventKind kind, QLatin1StringView name)
{
    return *catalog::spec(kind).field(QString(name));
}

template <FieldKind K>
std::optional<Error> readField(const QJsonObject &o, EventKind kind, QLatin1StringView name,
                               FieldType<K> &out)
{
    const QJsonValue v = o.value(name);
    const bool absent = v.isUndefined() || v.isNull();
    const auto missing = [&] {
        return invalid(QString(name), u"missing required field \"%1\" of %2"_s.arg(
                                          QString(name), catalog::name(kind)));
    };
    if constexpr (K == FieldKind::Text) {
        if (absent)
            return missing();
        return readString(v, QString(name), out);
    } else if constexpr (K == FieldKind::OptText) {
        if (absent) {
            out.reset();
            return std::nullopt;
        }
        QString s;
        if (auto e = readString(v, QString(name), s))
            return e;
        out = std::move(s);
        return std::nullopt;
    } else if constexpr (K == FieldKind::Flag) {
        if (absent)
            return missing();
        if (!v.isBool())
            return invalid(QString(name), u"field \"%1\" must be true or false, not %2"_s.arg(
                                              QString(name), typeNameOf(v)));
        out = v.toBool();
        return std::nullopt;
    } else if constexpr (K == FieldKind::OptInt32) {
        if (absent) {
            out.reset();
            return std::nullopt;
        }
        qint64 n = 0;
        if (auto e = readInteger(v, fieldSpec(kind, name), n))
            return e;
        out = n;
        return std::nullopt;
    } else if constexpr (K == FieldKind::Int32 || K == FieldKind::Count || K == FieldKind::Byte) {
        if (absent)
            return missing();
        return readInteger(v, fieldSpec(kind, name), out);
    } else if constexpr (K == FieldKind::TextList) {
        if (absent)
            return missing();
        if (!v.isArray())
            return invalid(QString(name), u"field \"%1\" must be an array of strings, not %2"_s.arg(
                                              QString(name), typeNameOf(v)));
        const QJsonArray a = v.toArray();
        out.clear();
        out.reserve(a.size());
        for (qsizetype i = 0; i < a.size(); ++i) {
            QString s;
            const QString itemName = u"%1[%2]"_s.arg(QString(name)).arg(i);
            if (auto e = readString(a.at(i), itemName, s))
                return e;
            out.append(std::move(s));
        }
        return std::nullopt;
    }
}

Result<AppEvent> decodeVariant(EventKind kind, const QJsonObject &o)
{
    AppEvent event;
    std::optional<Error> err;
    switch (kind) {
#define EVENTDESK_READ_FIELD(member, json, fieldKind) \
    if (!err) \
        err = readField<FieldKind::fieldKind>(o, kind, QLatin1StringView(#json), v.member);
#define EVENTDESK_DECODE_CASE(name, cat, message) \
    case EventKind::name: { \
        events::name v; \
        EVENTDESK_FIELDS_##name(EVENTDESK_READ_FIELD) \
        event = AppEvent(std::move(v)); \
        break; \
    }
        EVENTDESK_VARIANTS(EVENTDESK_DECODE_CASE)
#undef EVENTDESK_DECODE_CASE
#undef EVENTDESK_READ_FIELD
    }
    if (err)
        return *err;

    const VariantSpec &spec = catalog::spec(kind);
    QJsonObject extra;
    for (auto it = o.begin(); it != o.end(); ++it) {
        if (it.key() == "type"_L1 || spec.field(it.key()))
            continue;
        if (auto e = checkStrings(it.value(), it.key()))
            return *e;
        extra.insert(it.key(), it.value());
    }
    event.setExtraFields(std::move(extra));
    return event;
}

} // namespace


Result<QJsonObject> parseObject(QByteArrayView json, qsizetype maxBytes)
{
    if (json.size() > maxBytes)
        return Error{ErrorCode::TooLarge, {},
                     u"input is %1 bytes, over the limit of %2"_s.arg(json.size()).arg(maxBytes)};
    if (json.trimmed().isEmpty())
        return badJson(u"input is empty: expected one JSON object"_s);
    const char first = json.trimmed().front();
    if (first != '{' && first != '[')
        return badJson(u"expected one JSON object, but the input starts with '%1'"_s.arg(QLatin1Char(first >= 0x20 && first < 0x7f ? first : '?')));
    if (const auto problem = structuralProblem(json, MaxDepth))
        return badJson(*problem);
    {
        QStringDecoder utf8(QStringDecoder::Utf8, QStringDecoder::Flag::Stateless);
        const QString ignored = utf8.decode(json);
        if (utf8.hasError())
            return badJson(u"input is not valid UTF-8"_s);
    }
    if (const auto problem = jsontext::loneSurrogate(json))
        return badJson(*problem);
    QJsonParseError parseError;
    const QJsonDocument doc = QJsonDocument::fromJson(json.toByteArray(), &parseError);
    if (parseError.error != QJsonParseError::NoError)
        return badJson(u"not valid JSON at offset %1: %2"_s.arg(parseError.offset).arg(parseError.errorString()));
    if (!doc.isObject())
        return badJson(u"expected one JSON object, got %1"_s.arg(doc.isArray() ? u"an array"_s : u"a value"_s));
    return doc.object();
}

Result<AppEvent> decode(QByteArrayView json)
{
    Result<QJsonObject> object = parseObject(json);
    if (!object)
        return object.error();
    return fromJson(*object);
}

Result<AppEvent> fromJson(const QJsonObject &object)
{
    const QJsonValue type = object.value("type"_L1);
    if (!type.isUndefined()) {
        if (!type.isString())
            return invalid(u"type"_s, u"field \"type\" must be a string naming the variant, not %1"_s.arg(typeNameOf(type)));
        const std::optional<EventKind> kind = catalog::kindFromName(type.toString());
        if (!kind)
            return invalid(u"type"_s, u"unknown event variant \"%1\""_s.arg(type.toString().left(80)));
        return decodeVariant(*kind, object);
    }
    if (object.size() == 1) {
        const QString key = object.begin().key();
        const std::optional<EventKind> kind = catalog::kindFromName(key);
        if (!kind)
            return invalid(u"type"_s, u"unknown event variant \"%1\""_s.arg(key.left(80)));
        const QJsonValue inner = object.begin().value();
        if (!inner.isObject())
            return invalid(key, u"variant \"%1\" must hold an object, not %2"_s.arg(key, typeNameOf(inner)));
        return decodeVariant(*kind, inner.toObject());
    }
    if (object.isEmpty())
        return invalid(u"type"_s, u"empty object: missing field \"type\""_s);
    return invalid(u"type"_s, u"missing field \"type\" naming the event variant"_s);
}

void appendFields(QByteArray &out, const AppEvent &event, const QList<QLatin1StringView> &reserved)
{
    bool first = false;  // always after a leading key
    // A catalog field named like a reserved key is written as "<category>_<name>".
    QByteArray renamed;
    const auto keyFor = [&](QLatin1StringView name) {
        if (!reserved.contains(name))
            return name;
        renamed = catalog::categoryName(event.category()).toLatin1() + '_' + QByteArrayView(name.data(), name.size());
        return QLatin1StringView(renamed);
    };
    std::visit(
        [&](const auto &v) {
            using T = std::decay_t<decltype(v)>;
            if constexpr (!std::is_same_v<T, std::monostate>) {
#define EVENTDESK_WRITE_FIELD(member, json, fieldKind) \
    writeField(out, first, keyFor(QLatin1StringView(#json)), v.member);
#define EVENTDESK_ENCODE_CASE(name, cat, message) \
    if constexpr (std::is_same_v<T, events::name>) { \
        EVENTDESK_FIELDS_##name(EVENTDESK_WRITE_FIELD) \
    }
                EVENTDESK_VARIANTS(EVENTDESK_ENCODE_CASE)
#undef EVENTDESK_ENCODE_CASE
#undef EVENTDESK_WRITE_FIELD
            }
        },
        event.data());
    const QJsonObject &extra = event.extraFields();
    for (auto it = extra.begin(); it != extra.end(); ++it) {
        if (it.key() == "type"_L1 || reserved.contains(it.key()))
            continue;
        out += ',';
        appendString(out, it.key());
        out += ':';
        appendValue(out, it.value());
    }
}

namespace {

std::optional<Error> checkValue(const FieldSpec &spec, const QString &v)
{
    if (stringTooLong(v))
        return Error{ErrorCode::TooLarge, spec.name, u"field \"%1\" is longer than 64 KiB"_s.arg(spec.name)};
    return std::nullopt;
}
std::optional<Error> checkValue(const FieldSpec &spec, const std::optional<QString> &v)
{
    return v ? checkValue(spec, *v) : std::nullopt;
}
std::optional<Error> checkValue(const FieldSpec &, bool) { return std::nullopt; }
std::optional<Error> checkValue(const FieldSpec &spec, qint64 v)
{
    if (v < spec.minimum || v > spec.maximum)
        return invalid(spec.name, u"field \"%1\" is out of range: %2 is not in %3..%4"_s
                                      .arg(spec.name).arg(v).arg(spec.minimum).arg(spec.maximum));
    return std::nullopt;
}
std::optional<Error> checkValue(const FieldSpec &spec, const std::optional<qint64> &v)
{
    return v ? checkValue(spec, *v) : std::nullopt;
}
std::optional<Error> checkValue(const FieldSpec &spec, const QStringList &v)
{
    for (const QString &s : v) {
        if (auto e = checkValue(spec, s))
            return e;
    }
    return std::nullopt;
}

} // namespace

std::optional<Error> check(const AppEvent &event)
{
    if (!event.isValid())
        return invalid(u"type"_s, u"the event is empty"_s);
    std::optional<Error> err;
    const VariantSpec &spec = catalog::spec(event.kind());
    std::visit(
        [&](const auto &v) {
            using T = std::decay_t<decltype(v)>;
            if constexpr (!std::is_same_v<T, std::monostate>) {
#define EVENTDESK_CHECK_FIELD(member, json, fieldKind) \
    if (!err) \
        err = checkValue(*spec.field(u"" #json), v.member);
#define EVENTDESK_CHECK_CASE(name, cat, message) \
    if constexpr (std::is_same_v<T, events::name>) { \
        EVENTDESK_FIELDS_##name(EVENTDESK_CHECK_FIELD) \
    }
                EVENTDESK_VARIANTS(EVENTDESK_CHECK_CASE)
#undef EVENTDESK_CHECK_CASE
#undef EVENTDESK_CHECK_FIELD
            }
        },
        event.data());
    if (err)
        return err;
    const QJsonObject &extra = event.extraFields();
    for (auto it = extra.begin(); it != extra.end(); ++it) {
        if (auto e = checkStrings(it.value(), it.key()))
            return e;
    }
    return std::nullopt;
}

QByteArray encode(const AppEvent &event)
{
    QByteArray out;
    out.reserve(256);
    out += "{\"type\":";
    appendString(out, event.typeName());
    appendFields(out, event);
    out += '}';
    return out;
}

QJsonObject fieldsToJson(const AppEvent &event)
{
    QJsonObject o;
    std::visit(
        [&](const auto &v) {
            using T = std::decay_t<decltype(v)>;
            if constexpr (!std::is_same_v<T, std::monostate>) {
#define EVENTDESK_PUT_FIELD(member, json, fieldKind) putField(o, QLatin1StringView(#json), v.member);
#define EVENTDESK_OBJECT_CASE(name, cat, message) \
    if constexpr (std::is_same_v<T, events::name>) { \
        EVENTDESK_FIELDS_##name(EVENTDESK_PUT_FIELD) \
    }
                EVENTDESK_VARIANTS(EVENTDESK_OBJECT_CASE)
#undef EVENTDESK_OBJECT_CASE
#undef EVENTDESK_PUT_FIELD
            }
        },
        event.data());
    return o;
}

QJsonObject toJson(const AppEvent &event)
{
    QJsonObject o = event.extraFields();
    const QJsonObject fields = fieldsToJson(event);
    for (auto it = fields.begin(); it != fields.end(); ++it)
        o.insert(it.key(), it.value());
    o.insert("type"_L1, event.typeName());
    return o;
}

// Straight from UTF-16 into the escaped UTF-8 text, without a UTF-8 copy of
// the string on the way: the hot path of every publish.
void appendString(QByteArray &out, QStringView text)
{
    static constexpr char hex[] = "0123456789abcdef";
    const qsizetype start = out.size();
    out.resize(start + 2 + text.size() * 6);  // the most a UTF-16 unit becomes: \u00XX
    char *p = out.data() + start;
    *p++ = '"';
    const char16_t *s = text.utf16();
    const char16_t *end = s + text.size();
    for (; s != end; ++s) {
        const char16_t c = *s;
        if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
            *p++ = char(c);
            continue;
        }
        if (c < 0x80) {
            *p++ = '\\';
            switch (c) {
            case '"': *p++ = '"'; break;
            case '\\': *p++ = '\\'; break;
            case '\n': *p++ = 'n'; break;
            case '\r': *p++ = 'r'; break;
            case '\t': *p++ = 't'; break;
            case '\b': *p++ = 'b'; break;
            case '\f': *p++ = 'f'; break;
            default:
                *p++ = 'u';
                *p++ = '0';
                *p++ = '0';
                *p++ = hex[c >> 4];
                *p++ = hex[c & 0xf];
            }
        } else if (c < 0x800) {
            *p++ = char(0xc0 | (c >> 6));
            *p++ = char(0x80 | (c & 0x3f));
        } else if (!QChar::isSurrogate(c)) {
            *p++ = char(0xe0 | (c >> 12));
            *p++ = char(0x80 | ((c >> 6) & 0x3f));
            *p++ = char(0x80 | (c & 0x3f));
        } else if (QChar::isHighSurrogate(c) && s + 1 != end && QChar::isLowSurrogate(s[1])) {
            const char32_t u = QChar::surrogateToUcs4(c, s[1]);
            ++s;
            *p++ = char(0xf0 | (u >> 18));
            *p++ = char(0x80 | ((u >> 12) & 0x3f));
            *p++ = char(0x80 | ((u >> 6) & 0x3f));
            *p++ = char(0x80 | (u & 0x3f));
        } else {
            *p++ = '?';  // a lone surrogate, as QString::toUtf8() writes it
        }
    }
    *p++ = '"';
    out.resize(p - out.constData());
}

void appendValue(QByteArray &out, const QJsonValue &value)
{
    switch (value.type()) {
    case QJsonValue::Null:
    case QJsonValue::Undefined:
        out += "null";
        break;
    case QJsonValue::Bool:
        out += value.toBool() ? "true" : "false";
        break;
    case QJsonValue::Double:
        if (value.toVariant().typeId() == QMetaType::LongLong)
            out += QByteArray::number(value.toInteger());
        else
            out += QByteArray::number(value.toDouble(), 'g', QLocale::FloatingPointShortest);
        break;
    case QJsonValue::String:
        appendString(out, value.toString());
        break;
    case QJsonValue::Array: {
        out += '[';
        bool first = true;
        for (const QJsonValue &item : value.toArray()) {
            if (!first)
                out += ',';
            first = false;
            appendValue(out, item);
        }
        out += ']';
        break;
    }
    case QJsonValue::Object: {
        out += '{';
        const QJsonObject o = value.toObject();
        bool first = true;
        for (auto it = o.begin(); it != o.end(); ++it) {
            if (!first)
                out += ',';
            first = false;
            appendString(out, it.key());
            out += ':';
            appendValue(out, it.value());
        }
        out += '}';
        break;
    }
    }
}

} // namespace eventdesk::codec
