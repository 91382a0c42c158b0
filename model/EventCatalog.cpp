#include "EventCatalog.h"

#include <limits>

using namespace Qt::StringLiterals;

namespace eventdesk {

namespace {

struct Bounds {
    qint64 minimum;
    qint64 maximum;
};

Bounds boundsOf(FieldKind kind)
{
    constexpr qint64 i32min = std::numeric_limits<qint32>::min();
    constexpr qint64 i32max = std::numeric_limits<qint32>::max();
    constexpr qint64 u32max = std::numeric_limits<quint32>::max();
    switch (kind) {
    case FieldKind::Int32:
    case FieldKind::OptInt32:
        return {i32min, i32max};
    case FieldKind::Count:
        return {0, u32max};
    case FieldKind::Byte:
        return {0, 255};  // the engine's u8: a bar may clamp what it draws at 100 %
    default:
        return {0, 0};
    }
}

FieldSpec makeField(const char *name, FieldKind kind)
{
    const Bounds b = boundsOf(kind);
    return FieldSpec{QString::fromLatin1(name), kind, catalog::valueType(kind),
                     catalog::isRequired(kind), b.minimum, b.maximum};
}

QList<VariantSpec> buildCatalog()
{
    QList<VariantSpec> out;
#define EVENTDESK_FIELD_SPEC(member, json, fieldKind) fields.append(makeField(#json, FieldKind::fieldKind));
#define EVENTDESK_VARIANT_SPEC(name, cat, message) \
    { \
        QList<FieldSpec> fields; \
        EVENTDESK_FIELDS_##name(EVENTDESK_FIELD_SPEC) \
        VariantSpec spec{EventKind::name, QString::fromLatin1(#name), Category::cat, QString::fromLatin1(#message), fields, false, false}; \
        if (const FieldSpec *w = spec.field(u"world_id")) { \
            spec.hasWorld = true; \
            spec.worldRequired = w->required; \
        } \
        out.append(std::move(spec)); \
    }
    EVENTDESK_VARIANTS(EVENTDESK_VARIANT_SPEC)
#undef EVENTDESK_VARIANT_SPEC
#undef EVENTDESK_FIELD_SPEC
    return out;
}

} // namespace

const FieldSpec *VariantSpec::field(QStringView fieldName) const
{
    for (const FieldSpec &f : fields) {
        if (f.name == fieldName)
            return &f;
    }
    return nullptr;
}

namespace catalog {

const QList<VariantSpec> &variants()
{
    static const QList<VariantSpec> all = buildCatalog();
    return all;
}

const VariantSpec &spec(EventKind kind)
{
    return variants().at(static_cast<int>(kind));
}

std::optional<EventKind> kindFromName(QStringView variantName)
{
    for (const VariantSpec &v : variants()) {
        if (v.name == variantName)
            return v.kind;
    }
    return std::nullopt;
}

std::optional<EventKind> kindFromMessageName(QStringView messageName)
{
    for (const VariantSpec &v : variants()) {
        if (v.messageName == messageName)
            return v.kind;
    }
    return std::nullopt;
}

QString name(EventKind kind) { return spec(kind).name; }
QString messageName(EventKind kind) { return spec(kind).messageName; }
Category category(EventKind kind) { return spec(kind).category; }

QString categoryName(Category category)
{
    switch (category) {
    case Category::Story: return u"story"_s;
    case Category::Narrative: return u"narrative"_s;
    case Category::Challenge: return u"challenge"_s;
    case Category::Generation: return u"generation"_s;
    case Category::Suggestion: return u"suggestion"_s;
    }
    return {};
}

std::optional<Category> categoryFromName(QStringView name)
{
    for (int i = 0; i < CategoryCount; ++i) {
        const auto c = static_cast<Category>(i);
        if (name.compare(categoryName(c), Qt::CaseInsensitive) == 0)
            return c;
    }
    return std::nullopt;
}

QList<EventKind> kindsInCategory(Category category)
{
    QList<EventKind> out;
    for (const VariantSpec &v : variants()) {
        if (v.category == category)
            out.append(v.kind);
    }
    return out;
}

ValueType valueType(FieldKind kind)
{
    switch (kind) {
    case FieldKind::Text:
    case FieldKind::OptText:
        return ValueType::String;
    case FieldKind::Flag:
        return ValueType::Bool;
    case FieldKind::Int32:
    case FieldKind::OptInt32:
    case FieldKind::Count:
    case FieldKind::Byte:
        return ValueType::Integer;
    case FieldKind::TextList:
        return ValueType::StringList;
    }
    return ValueType::String;
}

bool isRequired(FieldKind kind)
{
    return kind != FieldKind::OptText && kind != FieldKind::OptInt32;
}

} // namespace catalog
} // namespace eventdesk
