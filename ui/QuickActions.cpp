#include "QuickActions.h"
#include "PlainText.h"

#include "Ids.h"

#include <QComboBox>
#include <QCompleter>
#include <QPushButton>
#include <QDialog>
#include <QDialogButtonBox>
#include <QFormLayout>
#include <QInputDialog>
#include <QLabel>
#include <QLineEdit>
#include <QMenu>
#include <QSpinBox>
#include <QUuid>

using namespace Qt::StringLiterals;

namespace eventdesk {

namespace {

// A small form dialog: the rows, an error line, OK/Cancel. The editors belong to
// the dialog and die with it, so everything is read inside: `validate` runs as
// the DM types — its message shows at once, OK stays off until it is empty —
// and `accept` reads the fields while they still exist. Returns true on OK.
bool askForm(QWidget *parent, const QString &title, const QList<std::pair<QString, QWidget *>> &rows,
             const std::function<QString()> &validate, const std::function<void()> &accept)
{
    QDialog dialog(parent);
    dialog.setWindowTitle(title);
    auto *form = new QFormLayout(&dialog);
    for (const auto &[label, editor] : rows) {
        editor->setParent(&dialog);
        form->addRow(label, editor);
    }
    auto *error = plain::label(new QLabel(&dialog));
    error->setWordWrap(true);
    error->setStyleSheet(u"color: #b3261e"_s);  // dark red: readable (AA) on the light and the default palette
    form->addRow(error);
    auto *buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, &dialog);
    form->addRow(buttons);
    const auto check = [&] {
        const QString problem = validate ? validate() : QString();
        error->setText(problem);
        error->setVisible(!problem.isEmpty());
        buttons->button(QDialogButtonBox::Ok)->setEnabled(problem.isEmpty());
        return problem.isEmpty();
    };
    for (QLineEdit *edit : dialog.findChildren<QLineEdit *>())
        QObject::connect(edit, &QLineEdit::textChanged, &dialog, check);
    for (QComboBox *combo : dialog.findChildren<QComboBox *>())
        QObject::connect(combo, &QComboBox::currentIndexChanged, &dialog, check);
    check();
    QObject::connect(buttons, &QDialogButtonBox::accepted, &dialog, [&] {
        if (check())
            dialog.accept();
    });
    QObject::connect(buttons, &QDialogButtonBox::rejected, &dialog, &QDialog::reject);
    if (dialog.exec() != QDialog::Accepted)
        return false;
    accept();
    return true;
}

// An editable picker: the known entries with completion, or a new one typed in.
QComboBox *picker(const QStringList &entries, const QString &placeholder)
{
    auto *combo = new QComboBox;
    combo->setEditable(true);
    combo->setInsertPolicy(QComboBox::NoInsert);
    combo->addItems(entries);
    combo->setCurrentIndex(-1);
    combo->lineEdit()->setPlaceholderText(placeholder);
    combo->completer()->setCompletionMode(QCompleter::PopupCompletion);
    combo->completer()->setCaseSensitivity(Qt::CaseInsensitive);
    combo->completer()->setFilterMode(Qt::MatchContains);
    return combo;
}

QString pretty(const QString &snake)
{
    QString s = snake;
    s.replace(u'_', u' ');
    if (!s.isEmpty())
        s[0] = s[0].toUpper();
    return s;
}

} // namespace

QuickActions::QuickActions(EventBus &bus, DeskBook *book, std::function<QString()> currentWorld, QWidget *parent)
    : QObject(parent)
    , m_bus(bus)
    , m_book(book)
    , m_currentWorld(std::move(currentWorld))
    , m_parent(parent)
    , m_menu(new QMenu(tr("&Quick"), parent))
    , m_story(bus)
    , m_narrative(bus)
    , m_challenges(bus)
    , m_publisher(bus)
    , m_generation(std::make_unique<GenerationService>(m_publisher, QueueSimulation{.tickMs = 700, .failureRate = 0.1}))
    , m_suggestions(std::make_unique<SuggestionService>(m_publisher, QueueSimulation{.tickMs = 500, .failureRate = 0.05}))
{
    QMenu *story = m_menu->addMenu(tr("Record a &story event"));
    for (int k = 0; k < StoryKindCount; ++k) {
        const auto kind = StoryKind(k);
        story->addAction(pretty(storyKindName(kind)), this, [this, kind] {
            const QString world = worldOrAsk();
            if (!world.isEmpty())
                recordStory(world, kind);
        });
    }
    m_menu->addAction(tr("Trigger a &narrative event…"), this, &QuickActions::askNarrative);
    if (m_book)
        m_menu->addAction(tr("&Roll a challenge for a character…"), QKeySequence(u"Ctrl+D"_s), this, &QuickActions::askRoll);
    m_menu->addSeparator();
    m_menu->addAction(tr("Queue an image &generation…"), this, &QuickActions::askGeneration);
    m_menu->addAction(tr("Ask for a text s&uggestion…"), this, &QuickActions::askSuggestion);
}

QuickActions::~QuickActions() = default;

void QuickActions::setKnownWorlds(std::function<QList<std::pair<QString, QString>>()> worlds)
{
    m_knownWorlds = std::move(worlds);
}

QString QuickActions::worldOrAsk()
{
    QString world = m_currentWorld();
    if (!world.isEmpty())
        return world;
    // No world chosen in the filter: pick one of the log's, or name a new one.
    const QList<std::pair<QString, QString>> known = m_knownWorlds ? m_knownWorlds() : QList<std::pair<QString, QString>>{};
    QStringList labels;
    for (const auto &[id, label] : known)
        labels << label;
    auto *which = picker(labels, tr("Ravenmoor"));
    if (!labels.isEmpty())
        which->setCurrentIndex(0);
    QString chosen;
    const auto validate = [&] { return which->currentText().trimmed().isEmpty() ? tr("Pick a world, or type a new one's name") : QString(); };
    if (!askForm(m_parent, tr("Which world?"), {{tr("World"), which}}, validate, [&] { chosen = which->currentText().trimmed(); }))
        return {};
    for (const auto &[id, label] : known)
        if (label == chosen || id == chosen)
            return id;
    // A new world: the engine wants a UUID; the name is kept for display.
    if (ids::isUuid(chosen))
        return chosen;
    const QString id = ids::newUuid();  // random: a world's id cannot be worked out from its name
    if (m_book)
        m_book->setDisplayName(u"world"_s, id, chosen);
    return id;
}

void QuickActions::report(QFuture<PublishResult> published, const QString &what)
{
    published.then(this, [this, what](const PublishResult &r) {
        if (r)
            Q_EMIT done(tr("%1 (event %2)").arg(what).arg(r.value()));
        else
            Q_EMIT failed(tr("%1 was not published: %2").arg(what, r.error().message));
    });
}

void QuickActions::recordStory(const QString &world, StoryKind kind)
{
    report(m_story.record(world, kind), tr("Story event “%1” in %2").arg(storyKindName(kind), world));
}

void QuickActions::triggerNarrative(const QString &world, const QString &name, const QString &outcome)
{
    report(m_narrative.markTriggered(QUuid::createUuid().toString(QUuid::WithoutBraces), world, name, outcome),
           tr("Narrative event “%1”").arg(name));
}

void QuickActions::rollChallenge(const Challenge &challenge, const QString &characterId, int modifier)
{
    ChallengeRollOutcome outcome = m_challenges.resolve(challenge.id, challenge.name, challenge.worldId, characterId,
                                                        challenge.difficulty, modifier);
    const auto *resolved = outcome.event.as<events::ChallengeResolved>();
    const QString what = resolved ? tr("%1 %2 at %3 (%4 → %5 vs DC %6)")
                                        .arg(characterId, resolved->success ? tr("succeeded") : tr("failed"), challenge.name)
                                        .arg(resolved->roll.value_or(0)).arg(resolved->total.value_or(0)).arg(challenge.difficulty)
                                  : challenge.name;
    report(outcome.published, what);
}

void QuickActions::queueGeneration(const QString &entityType, const QString &entityId, const QString &assetType)
{
    const QString batch = m_generation->queue(entityType, entityId, assetType);
    Q_EMIT done(tr("Queued %1 for %2 %3 (batch %4)").arg(assetType, entityType, entityId, batch.left(8)));
}

void QuickActions::requestSuggestion(const QString &fieldType, const QString &world)
{
    const QString id = m_suggestions->request(fieldType, std::nullopt, world.isEmpty() ? std::nullopt : std::optional(world));
    Q_EMIT done(tr("Asked for a %1 suggestion (request %2)").arg(pretty(fieldType).toLower(), id.left(8)));
}

void QuickActions::askNarrative()
{
    const QString world = worldOrAsk();
    if (world.isEmpty())
        return;
    auto *name = new QLineEdit;
    auto *outcome = new QLineEdit;
    name->setPlaceholderText(tr("The bridge collapses"));
    outcome->setPlaceholderText(tr("The party falls into the river"));
    QString eventName, outcomeName;
    const auto validate = [&] {
        return name->text().trimmed().isEmpty() || outcome->text().trimmed().isEmpty()
            ? tr("A narrative event needs a name and an outcome")
            : QString();
    };
    if (!askForm(m_parent, tr("Trigger a narrative event in %1").arg(world), {{tr("Event"), name}, {tr("Outcome"), outcome}},
                 validate, [&] {
                     eventName = name->text().trimmed();
                     outcomeName = outcome->text().trimmed();
                 }))
        return;
    triggerNarrative(world, eventName, outcomeName);
}

void QuickActions::askRoll()
{
    const QString world = worldOrAsk();
    if (world.isEmpty() || !m_book)
        return;
    // The challenges and the names as they are now (a roll a moment ago named a character).
    m_book->displayNames().then(this, [this, world](const Result<QHash<QString, QString>> &named) {
        askRollWith(world, named ? named.value() : QHash<QString, QString>{});
    });
}

void QuickActions::askRollWith(const QString &world, const QHash<QString, QString> &names)
{
    m_book->challenges(world).then(this, [this, world, names](const Result<QList<Challenge>> &r) {
        if (!r || r->isEmpty()) {
            Q_EMIT failed(r ? tr("%1 has no challenges yet: define some under Events → Challenges").arg(world) : r.error().message);
            return;
        }
        auto *which = new QComboBox;
        for (const Challenge &c : r.value())
            which->addItem(tr("%1 (DC %2)").arg(c.name).arg(c.difficulty), c.id);
        // The characters already named in this world (their ids are made from world and name).
        QStringList cast;
        for (auto it = names.cbegin(); it != names.cend(); ++it)
            if (ids::characterUuid(world, it.value()) == it.key())
                cast << it.value();
        cast.sort(Qt::CaseInsensitive);
        auto *character = picker(cast, tr("Aria"));
        auto *modifier = new QSpinBox;
        modifier->setRange(-10, 10);
        int index = 0, bonus = 0;
        QString who;
        const auto validate = [&] { return character->currentText().trimmed().isEmpty() ? tr("Name the character who rolls") : QString(); };
        if (!askForm(m_parent, tr("Roll a challenge in %1").arg(world),
                     {{tr("Challenge"), which}, {tr("Character"), character}, {tr("Modifier"), modifier}}, validate, [&] {
                         index = which->currentIndex();
                         who = character->currentText().trimmed();
                         bonus = modifier->value();
                     }))
            return;
        // The engine wants UUIDs: a character typed by name gets its stable
        // name-based id in this world, and the name is kept for display.
        QString characterId = who;
        if (!ids::isUuid(who)) {
            characterId = ids::characterUuid(world, who);
            m_book->setDisplayName(u"character"_s, characterId, who);
        }
        rollChallenge(r->at(index), characterId, bonus);
    });
}

void QuickActions::askGeneration()
{
    if (!m_book) {
        askGenerationWith({});
        return;
    }
    m_book->displayNames().then(this, [this](const Result<QHash<QString, QString>> &named) {
        askGenerationWith(named ? named.value() : QHash<QString, QString>{});
    });
}

void QuickActions::askGenerationWith(const QHash<QString, QString> &names)
{
    // Whom the image is for, by name: the characters of the world in view
    // (every named one when no world is), or a new name, or a UUID.
    const QString world = m_currentWorld();
    QHash<QString, QString> idOf;  // name → id
    for (auto it = names.cbegin(); it != names.cend(); ++it)
        if (world.isEmpty() ? it.value() != names.value(world) : ids::characterUuid(world, it.value()) == it.key())
            idOf.insert(it.value(), it.key());
    QStringList cast = idOf.keys();
    cast.sort(Qt::CaseInsensitive);
    auto *entityType = new QComboBox;
    entityType->addItems({u"character"_s, u"location"_s, u"item"_s});
    auto *entity = picker(cast, tr("Aria, or the harbour"));
    auto *asset = new QComboBox;
    asset->addItems({u"portrait"_s, u"token"_s, u"scene"_s});
    QString type, who, assetType;
    const auto validate = [&] {
        return entity->currentText().trimmed().isEmpty() ? tr("Say which %1 the image is for").arg(entityType->currentText()) : QString();
    };
    if (!askForm(m_parent, tr("Queue an image generation"), {{tr("For a"), entityType}, {tr("Named"), entity}, {tr("Asset"), asset}},
                 validate, [&] {
                     type = entityType->currentText();
                     who = entity->currentText().trimmed();
                     assetType = asset->currentText();
                 }))
        return;
    // The engine wants UUIDs: a name gets one (a character's is stable in its
    // world), and the name is kept for display.
    QString id = idOf.value(who);
    if (id.isEmpty() && ids::isUuid(who)) {
        id = who;
    } else if (id.isEmpty()) {
        id = type == u"character"_s && !world.isEmpty() ? ids::characterUuid(world, who) : ids::newUuid();
        if (m_book)
            m_book->setDisplayName(type, id, who);
    }
    queueGeneration(type, id, assetType);
}

void QuickActions::askSuggestion()
{
    bool ok = false;
    const QString field = QInputDialog::getItem(m_parent, tr("Ask for a text suggestion"), tr("What for"),
                                                {u"npc_name"_s, u"location_name"_s, u"item_description"_s, u"quest_hook"_s}, 0,
                                                false, &ok);
    if (ok)
        requestSuggestion(field, m_currentWorld());
}

} // namespace eventdesk
