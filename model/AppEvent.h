// AppEvent: one fact announced on the bus, as a value. One struct per variant
// (generated from the catalog in EventCatalog.h) held in a std::variant, plus the
// unknown fields a newer engine may have added, which are kept and shown.
#pragma once

#include "EventCatalog.h"

#include <QJsonObject>
#include <QString>
#include <QStringList>

#include <optional>
#include <variant>

namespace eventdesk {

template <FieldKind K> struct FieldTraits;
template <> struct FieldTraits<FieldKind::Text> { using type = QString; };
template <> struct FieldTraits<FieldKind::OptText> { using type = std::optional<QString>; };
template <> struct FieldTraits<FieldKind::Flag> { using type = bool; };
template <> struct FieldTraits<FieldKind::Int32> { using type = qint64; };
template <> struct FieldTraits<FieldKind::OptInt32> { using type = std::optional<qint64>; };
template <> struct FieldTraits<FieldKind::Count> { using type = qint64; };
template <> struct FieldTraits<FieldKind::Byte> { using type = qint64; };
template <> struct FieldTraits<FieldKind::TextList> { using type = QStringList; };
template <FieldKind K> using FieldType = typename FieldTraits<K>::type;

namespace events {

#define EVENTDESK_STRUCT_MEMBER(member, json, fieldKind) FieldType<FieldKind::fieldKind> member{};
#define EVENTDESK_STRUCT(name, category, message) \
    struct name { \
        static constexpr EventKind Kind = EventKind::name; \
        EVENTDESK_FIELDS_##name(EVENTDESK_STRUCT_MEMBER) \
        bool operator==(const name &) const = default; \
    };
EVENTDESK_VARIANTS(EVENTDESK_STRUCT)
#undef EVENTDESK_STRUCT
#undef EVENTDESK_STRUCT_MEMBER

} // namespace events

#define EVENTDESK_VARIANT_TYPE(name, category, message) events::name,
using AppEventData = std::variant<EVENTDESK_VARIANTS(EVENTDESK_VARIANT_TYPE) std::monostate>;
#undef EVENTDESK_VARIANT_TYPE

class AppEvent
{
public:
    AppEvent() = default;  // empty: isValid() is false
    template <typename Variant, typename = decltype(Variant::Kind)>
    AppEvent(Variant v) : m_data(std::move(v)) {}

    bool isValid() const { return !std::holds_alternative<std::monostate>(m_data); }
    EventKind kind() const;
    QString typeName() const { return catalog::name(kind()); }
    Category category() const { return catalog::category(kind()); }

    // The world this event belongs to; empty for a global event.
    QString worldId() const;
    // The game session this event belongs to, if the variant carries one.
    QString sessionId() const;
    bool isGlobal() const { return worldId().isEmpty(); }

    // One line for a person, e.g. "pc7 succeeded at Pick the lock (14 → 17)".
    QString summary() const;

    const AppEventData &data() const { return m_data; }
    template <typename Variant> const Variant *as() const { return std::get_if<Variant>(&m_data); }
    template <typename Variant> Variant *as() { return std::get_if<Variant>(&m_data); }

    // Fields a newer engine added that this catalog does not know.
    const QJsonObject &extraFields() const { return m_extra; }
    void setExtraFields(QJsonObject extra) { m_extra = std::move(extra); }

    bool operator==(const AppEvent &other) const = default;

private:
    AppEventData m_data = std::monostate{};
    QJsonObject m_extra;
};

} // namespace eventdesk
