#include "TriggerDialog.h"
#include "PlainText.h"

#include "Ids.h"

#include "EventCodec.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDialogButtonBox>
#include <QFormLayout>
#include <QJsonArray>
#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSpinBox>
#include <QUuid>
#include <QVBoxLayout>

using namespace Qt::StringLiterals;

namespace eventdesk {

namespace {

// "challenge_name" → "Challenge name", "world_id" → "World": the form speaks words.
QString fieldLabel(const QString &name)
{
    if (name == u"world_id"_s)
        return TriggerDialog::tr("World");
    QString words = name;
    words.replace(u'_', u' ');
    if (words.endsWith(u" id"_s))
        words = words.left(words.size() - 3) + u" ID"_s;
    if (!words.isEmpty())
        words[0] = words[0].toUpper();
    return words;
}

// Ids that name the event itself: a duplicate gets new ones.
bool isOwnId(const FieldSpec &f)
{
    return f.name.endsWith(u"_id"_s) && f.required && f.name != u"character_id"_s && f.name != u"entity_id"_s
        && f.name != u"world_id"_s && f.name != u"challenge_id"_s && f.name != u"session_id"_s;
}

} // namespace

TriggerDialog::TriggerDialog(EventBus &bus, const QString &defaultWorld, QWidget *parent)
    : QDialog(parent)
    , m_bus(bus)
    , m_defaultWorld(defaultWorld)
    , m_variant(new QComboBox(this))
    , m_form(new QFormLayout)
    , m_problem(plain::label(new QLabel(this)))
    , m_buttons(new QDialogButtonBox(QDialogButtonBox::Cancel, this))
{
    setWindowTitle(tr("Trigger an event"));
    for (const VariantSpec &v : catalog::variants())
        m_variant->addItem(u"%1  (%2)"_s.arg(v.name, catalog::categoryName(v.category)), int(v.kind));
    auto *layout = new QVBoxLayout(this);
    auto *top = new QFormLayout;
    top->addRow(tr("Event"), m_variant);
    layout->addLayout(top);
    layout->addLayout(m_form);
    m_problem->setStyleSheet(u"color:#c0392b"_s);
    m_problem->setWordWrap(true);
    layout->addWidget(m_problem);
    auto *publishButton = m_buttons->addButton(tr("Publish"), QDialogButtonBox::AcceptRole);
    publishButton->setDefault(true);
    layout->addWidget(m_buttons);
    connect(m_buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    connect(m_buttons, &QDialogButtonBox::accepted, this, &TriggerDialog::publish);
    connect(m_variant, &QComboBox::currentIndexChanged, this, &TriggerDialog::rebuild);
    rebuild();
}

void TriggerDialog::setVariant(EventKind kind)
{
    m_variant->setCurrentIndex(m_variant->findData(int(kind)));
}

void TriggerDialog::rebuild()
{
    while (m_form->rowCount() > 0)
        m_form->removeRow(0);
    m_editors.clear();
    const VariantSpec &spec = catalog::spec(EventKind(m_variant->currentData().toInt()));
    for (const FieldSpec &f : spec.fields) {
        QWidget *editor = nullptr;
        switch (f.type) {
        case ValueType::String: {
            auto *line = new QLineEdit(this);
            if (f.name == u"world_id"_s)
                line->setText(m_defaultWorld);
            else if (isOwnId(f))
                line->setText(QUuid::createUuid().toString(QUuid::WithoutBraces));
            connect(line, &QLineEdit::textChanged, this, &TriggerDialog::revalidate);
            line->setPlaceholderText(f.required ? tr("required") : tr("optional"));
            editor = line;
            break;
        }
        case ValueType::Integer: {
            auto *spin = new QSpinBox(this);
            spin->setRange(int(std::max<qint64>(f.minimum, INT_MIN)), int(std::min<qint64>(f.maximum, INT_MAX)));
            spin->setValue(std::clamp(0, spin->minimum(), spin->maximum()));
            if (!f.required) {
                spin->setSpecialValueText(tr("(none)"));
                spin->setMinimum(spin->minimum());
                spin->setValue(spin->minimum());
            }
            connect(spin, &QSpinBox::valueChanged, this, &TriggerDialog::revalidate);
            editor = spin;
            break;
        }
        case ValueType::Bool:
            editor = new QCheckBox(this);
            connect(static_cast<QCheckBox *>(editor), &QCheckBox::toggled, this, &TriggerDialog::revalidate);
            break;
        case ValueType::StringList: {
            auto *text = new QPlainTextEdit(this);
            text->setPlaceholderText(tr("one per line"));
            text->setMaximumHeight(80);
            connect(text, &QPlainTextEdit::textChanged, this, &TriggerDialog::revalidate);
            editor = text;
            break;
        }
        }
        editor->setObjectName(f.name);
        editor->setToolTip(f.name);  // the JSON field, for the DM who knows the engine
        m_form->addRow(f.required ? u"%1 *"_s.arg(fieldLabel(f.name)) : fieldLabel(f.name), editor);
        m_editors.append({f, editor});
    }
    revalidate();
}

// As the DM types: what is wrong is said at once, beside its field (that field is
// outlined and the message names it by its label), and clears when it is fixed.
void TriggerDialog::revalidate()
{
    const Result<AppEvent> e = event();
    for (const auto &[f, editor] : m_editors) {
        const bool wrong = !e && e.error().field == f.name;
        editor->setStyleSheet(wrong ? u"border: 1px solid #b3261e"_s : QString());
        if (QLabel *label = qobject_cast<QLabel *>(m_form->labelForField(editor)))
            label->setStyleSheet(wrong ? u"color: #b3261e"_s : QString());
    }
    QString message;
    if (!e) {
        message = e.error().message;
        for (const auto &[f, editor] : m_editors)
            if (f.name == e.error().field)
                message.replace(f.name, fieldLabel(f.name));
    }
    m_problem->setText(message);
    for (QAbstractButton *b : m_buttons->buttons())
        if (m_buttons->buttonRole(b) == QDialogButtonBox::AcceptRole)
            b->setEnabled(bool(e));
}

void TriggerDialog::prefill(const AppEvent &event)
{
    setVariant(event.kind());
    const QJsonObject o = codec::toJson(event);
    for (const auto &[f, editor] : m_editors) {
        if (isOwnId(f) || !o.contains(f.name) || o.value(f.name).isNull())
            continue;
        const QJsonValue v = o.value(f.name);
        if (v.isArray()) {
            QStringList lines;
            for (const QJsonValue &item : v.toArray())
                lines << item.toString();
            setField(f.name, lines);
        } else {
            setField(f.name, v.toVariant());
        }
    }
    revalidate();
}

void TriggerDialog::setField(const QString &name, const QVariant &value)
{
    for (auto &[spec, editor] : m_editors) {
        if (spec.name != name)
            continue;
        if (auto *line = qobject_cast<QLineEdit *>(editor))
            line->setText(value.toString());
        else if (auto *spin = qobject_cast<QSpinBox *>(editor))
            spin->setValue(value.toInt());
        else if (auto *check = qobject_cast<QCheckBox *>(editor))
            check->setChecked(value.toBool());
        else if (auto *text = qobject_cast<QPlainTextEdit *>(editor))
            text->setPlainText(value.toStringList().join(u'\n'));
    }
}

Result<AppEvent> TriggerDialog::event() const
{
    const VariantSpec &spec = catalog::spec(EventKind(m_variant->currentData().toInt()));
    QJsonObject o{{u"type"_s, spec.name}};
    for (const auto &[f, editor] : m_editors) {
        if (auto *line = qobject_cast<QLineEdit *>(editor)) {
            const QString v = line->text().trimmed();
            if (v.isEmpty() && f.required)
                return Error{ErrorCode::InvalidEvent, f.name, tr("%1 is required").arg(f.name)};
            if (!v.isEmpty())
                o.insert(f.name, v);
        } else if (auto *spin = qobject_cast<QSpinBox *>(editor)) {
            if (f.required || spin->value() != spin->minimum())
                o.insert(f.name, spin->value());
        } else if (auto *check = qobject_cast<QCheckBox *>(editor)) {
            o.insert(f.name, check->isChecked());
        } else if (auto *text = qobject_cast<QPlainTextEdit *>(editor)) {
            const QStringList lines = text->toPlainText().split(u'\n', Qt::SkipEmptyParts);
            o.insert(f.name, QJsonArray::fromStringList(lines));
        }
    }
    Result<AppEvent> e = codec::fromJson(o);
    if (!e)
        return e;
    if (auto problem = codec::check(*e))
        return *problem;
    return e;
}

void TriggerDialog::publish()
{
    const Result<AppEvent> e = event();
    if (!e) {
        m_problem->setText(e.error().message);
        return;
    }
    m_buttons->setEnabled(false);
    const QStringList plainIds = ids::nonUuidIds(*e);
    m_bus.publish(*e).then(this, [this, plainIds](const PublishResult &r) {
        m_buttons->setEnabled(true);
        if (!r) {
            m_problem->setText(tr("Not published: %1").arg(r.error().message));
            return;
        }
        Q_EMIT published(r.value(), plainIds);
        accept();
    });
}

} // namespace eventdesk
