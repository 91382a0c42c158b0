// How the codec writes one field: as JSON text in the engine's exact form
// (writeField, serde's layout: every key, null where absent) or into a
// QJsonObject (putField). Internal to EventCodec.cpp.
#pragma once

#include <QByteArray>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLatin1StringView>
#include <QStringList>

#include <charconv>
#include <optional>

namespace eventdesk::codec::writing {

inline void appendKey(QByteArray &out, bool &first, QLatin1StringView key)
{
    if (!first)
        out += ',';
    first = false;
    out += '"';
    out += QByteArrayView(key.data(), key.size());
    out += "\":";
}

inline void writeField(QByteArray &out, bool &first, QLatin1StringView key, const QString &v)
{
    appendKey(out, first, key);
    appendString(out, v);
}

// An absent Option is written as null, as serde writes it (the engine has no
// skip_serializing_if): every key present, in the engine's order.
inline void writeField(QByteArray &out, bool &first, QLatin1StringView key, const std::optional<QString> &v)
{
    if (v) {
        writeField(out, first, key, *v);
    } else {
        appendKey(out, first, key);
        out += "null";
    }
}

inline void writeField(QByteArray &out, bool &first, QLatin1StringView key, bool v)
{
    appendKey(out, first, key);
    out += v ? "true" : "false";
}

inline void writeField(QByteArray &out, bool &first, QLatin1StringView key, qint64 v)
{
    appendKey(out, first, key);
    char digits[24];
    const auto r = std::to_chars(digits, digits + sizeof digits, v);
    out.append(digits, r.ptr - digits);
}

inline void writeField(QByteArray &out, bool &first, QLatin1StringView key, const std::optional<qint64> &v)
{
    if (v) {
        writeField(out, first, key, *v);
    } else {
        appendKey(out, first, key);
        out += "null";
    }
}

inline void writeField(QByteArray &out, bool &first, QLatin1StringView key, const QStringList &v)
{
    appendKey(out, first, key);
    out += '[';
    for (qsizetype i = 0; i < v.size(); ++i) {
        if (i)
            out += ',';
        appendString(out, v.at(i));
    }
    out += ']';
}

inline void putField(QJsonObject &o, QLatin1StringView key, const QString &v) { o.insert(key, v); }
inline void putField(QJsonObject &o, QLatin1StringView key, const std::optional<QString> &v)
{
    o.insert(key, v ? QJsonValue(*v) : QJsonValue(QJsonValue::Null));
}
inline void putField(QJsonObject &o, QLatin1StringView key, bool v) { o.insert(key, v); }
inline void putField(QJsonObject &o, QLatin1StringView key, qint64 v) { o.insert(key, v); }
inline void putField(QJsonObject &o, QLatin1StringView key, const std::optional<qint64> &v)
{
    o.insert(key, v ? QJsonValue(*v) : QJsonValue(QJsonValue::Null));
}
inline void putField(QJsonObject &o, QLatin1StringView key, const QStringList &v)
{
    o.insert(key, QJsonArray::fromStringList(v));
}

} // namespace eventdesk::codec::writing
