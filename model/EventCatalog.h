// The event catalog: the single description of the eleven AppEvent variants of
// DESIGN §3 — per variant its fields, their JSON names and types, which are
// required, its category and its session message name.
//
// Everything else derives from the two X-macro lists below: the value structs
// (AppEvent.h), the codec, the session messages, the GUI's forms and the command
// line. Adding a field is one line in a EVENTDESK_FIELDS_* list.
#pragma once

#include <QList>
#include <QString>
#include <QStringList>

#include <optional>

namespace eventdesk {

// What a field holds and what values it accepts. The engine's Rust types are
// noted for the integer kinds.
enum class FieldKind {
    Text,        // required string
    OptText,     // optional string (absent or null)
    Flag,        // required bool
    Int32,       // required i32
    OptInt32,    // optional i32
    Count,       // required u32 (position, asset_count)
    Byte,        // required u8, 0..255 (progress: the engine allows past 100)
    TextList,    // required array of strings
};

enum class ValueType { String, Integer, Bool, StringList };

// F(member, json_name, FieldKind)
#define EVENTDESK_FIELDS_StoryEventCreated(F) \
    F(storyEventId, story_event_id, Text) \
    F(worldId, world_id, Text) \
    F(eventType, event_type, Text)

#define EVENTDESK_FIELDS_NarrativeEventTriggered(F) \
    F(eventId, event_id, Text) \
    F(worldId, world_id, Text) \
    F(eventName, event_name, Text) \
    F(outcomeName, outcome_name, Text) \
    F(sessionId, session_id, OptText)

#define EVENTDESK_FIELDS_ChallengeResolved(F) \
    F(challengeId, challenge_id, OptText) \
    F(challengeName, challenge_name, Text) \
    F(worldId, world_id, Text) \
    F(characterId, character_id, Text) \
    F(success, success, Flag) \
    F(roll, roll, OptInt32) \
    F(total, total, OptInt32) \
    F(sessionId, session_id, OptText)

#define EVENTDESK_FIELDS_GenerationBatchQueued(F) \
    F(batchId, batch_id, Text) \
    F(entityType, entity_type, Text) \
    F(entityId, entity_id, Text) \
    F(assetType, asset_type, Text) \
    F(position, position, Count) \
    F(sessionId, session_id, OptText)

#define EVENTDESK_FIELDS_GenerationBatchProgress(F) \
    F(batchId, batch_id, Text) \
    F(progress, progress, Byte) \
    F(sessionId, session_id, OptText)

#define EVENTDESK_FIELDS_GenerationBatchCompleted(F) \
    F(batchId, batch_id, Text) \
    F(entityType, entity_type, Text) \
    F(entityId, entity_id, Text) \
    F(assetType, asset_type, Text) \
    F(assetCount, asset_count, Count) \
    F(sessionId, session_id, OptText)

#define EVENTDESK_FIELDS_GenerationBatchFailed(F) \
    F(batchId, batch_id, Text) \
    F(entityType, entity_type, Text) \
    F(entityId, entity_id, Text) \
    F(assetType, asset_type, Text) \
    F(error, error, Text) \
    F(sessionId, session_id, OptText)

#define EVENTDESK_FIELDS_SuggestionQueued(F) \
    F(requestId, request_id, Text) \
    F(fieldType, field_type, Text) \
    F(entityId, entity_id, OptText) \
    F(worldId, world_id, OptText)

#define EVENTDESK_FIELDS_SuggestionProgress(F) \
    F(requestId, request_id, Text) \
    F(status, status, Text) \
    F(worldId, world_id, OptText)

#define EVENTDESK_FIELDS_SuggestionCompleted(F) \
    F(requestId, request_id, Text) \
    F(fieldType, field_type, Text) \
    F(suggestions, suggestions, TextList) \
    F(worldId, world_id, OptText)

#define EVENTDESK_FIELDS_SuggestionFailed(F) \
    F(requestId, request_id, Text) \
    F(fieldType, field_type, Text) \
    F(error, error, Text) \
    F(worldId, world_id, OptText)

// V(VariantName, Category, SessionMessageName), in DESIGN §3 table order.
#define EVENTDESK_VARIANTS(V) \
    V(StoryEventCreated, Story, StoryEventCreated) \
    V(NarrativeEventTriggered, Narrative, NarrativeEventTriggered) \
    V(ChallengeResolved, Challenge, ChallengeResolved) \
    V(GenerationBatchQueued, Generation, GenerationQueued) \
    V(GenerationBatchProgress, Generation, GenerationProgress) \
    V(GenerationBatchCompleted, Generation, GenerationComplete) \
    V(GenerationBatchFailed, Generation, GenerationFailed) \
    V(SuggestionQueued, Suggestion, SuggestionQueued) \
    V(SuggestionProgress, Suggestion, SuggestionProgress) \
    V(SuggestionCompleted, Suggestion, SuggestionComplete) \
    V(SuggestionFailed, Suggestion, SuggestionFailed)

enum class EventKind {
#define EVENTDESK_KIND_ENUM(name, category, message) name,
    EVENTDESK_VARIANTS(EVENTDESK_KIND_ENUM)
#undef EVENTDESK_KIND_ENUM
};
inline constexpr int EventKindCount = 11;

enum class Category { Story, Narrative, Challenge, Generation, Suggestion };
inline constexpr int CategoryCount = 5;

struct FieldSpec {
    QString name;       // JSON name, snake_case
    FieldKind kind;
    ValueType type;
    bool required;
    qint64 minimum;     // integer bounds (inclusive); unused for other types
    qint64 maximum;
};

struct VariantSpec {
    EventKind kind;
    QString name;         // the variant name: payload "type" and the event_type column
    Category category;
    QString messageName;  // the session protocol's message type
    QList<FieldSpec> fields;
    bool hasWorld;        // has a world_id field (required or optional)
    bool worldRequired;   // world_id is required: always world-scoped

    const FieldSpec *field(QStringView fieldName) const;
};

namespace catalog {

const QList<VariantSpec> &variants();
const VariantSpec &spec(EventKind kind);
std::optional<EventKind> kindFromName(QStringView variantName);
std::optional<EventKind> kindFromMessageName(QStringView messageName);
QString name(EventKind kind);
QString messageName(EventKind kind);
Category category(EventKind kind);

QString categoryName(Category category);   // "story", "narrative", …
std::optional<Category> categoryFromName(QStringView name);
QList<EventKind> kindsInCategory(Category category);

ValueType valueType(FieldKind kind);
bool isRequired(FieldKind kind);

} // namespace catalog
} // namespace eventdesk
