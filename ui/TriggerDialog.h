// Trigger a new event: a form generated from the event catalog (typed editors,
// required fields marked, validation before publish) for any of the eleven
// variants.
#pragma once

#include "Ports.h"

#include <QDialog>

class QComboBox;
class QFormLayout;
class QLabel;
class QDialogButtonBox;

namespace eventdesk {

class TriggerDialog final : public QDialog
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(TriggerDialog)
public:
    TriggerDialog(EventBus &bus, const QString &defaultWorld, QWidget *parent = nullptr);

    void setVariant(EventKind kind);
    // Duplicate and edit: the event's type and values, with new ids of its own.
    void prefill(const AppEvent &event);
    // Sets a field's editor (by JSON name) — for quick actions and tests.
    void setField(const QString &name, const QVariant &value);
    // The event the form describes, or the first problem with it.
    Result<AppEvent> event() const;
    void publish();

Q_SIGNALS:
    // plainIds: the event's ids that are not UUIDs ("world_id=w1"), for a warning.
    void published(qint64 id, const QStringList &plainIds);

private:
    void revalidate();
    void rebuild();

    EventBus &m_bus;
    QString m_defaultWorld;
    QComboBox *m_variant;
    QFormLayout *m_form;
    QLabel *m_problem;
    QDialogButtonBox *m_buttons;
    QList<std::pair<FieldSpec, QWidget *>> m_editors;
};

} // namespace eventdesk
