#include "PruneDialog.h"

#include "Timestamp.h"

#include <QCheckBox>
#include <QDialogButtonBox>
#include <QFileInfo>
#include <QFormLayout>
#include <QLabel>
#include <QMessageBox>
#include <QPushButton>
#include <QSpinBox>
#include <QVBoxLayout>

using namespace Qt::StringLiterals;

namespace eventdesk {

PruneDialog::PruneDialog(Retention &retention, QWidget *parent)
    : QDialog(parent)
    , m_retention(retention)
    , m_days(new QSpinBox(this))
    , m_force(new QCheckBox(tr("Also events not processed yet"), this))
    , m_preview(new QLabel(this))
    , m_prune(new QPushButton(tr("Archive and delete"), this))
{
    setWindowTitle(tr("Prune old events"));
    m_days->setRange(0, 3650);
    m_days->setValue(30);
    m_days->setSuffix(tr(" days"));
    m_preview->setWordWrap(true);
    m_preview->setMinimumHeight(m_preview->fontMetrics().height() * 3);
    auto *form = new QFormLayout;
    form->addRow(tr("Older than"), m_days);
    form->addRow(QString(), m_force);
    auto *note = new QLabel(tr("Events go to a compressed archive next to the database first (gzip JSON lines, "
                               "readable by eventdesk import); only then are they deleted."), this);
    note->setWordWrap(true);
    auto *buttons = new QDialogButtonBox(QDialogButtonBox::Cancel, this);
    buttons->addButton(m_prune, QDialogButtonBox::DestructiveRole);
    auto *layout = new QVBoxLayout(this);
    layout->addLayout(form);
    layout->addWidget(note);
    layout->addWidget(m_preview);
    layout->addWidget(buttons);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    connect(m_days, &QSpinBox::valueChanged, this, &PruneDialog::refreshPreview);
    connect(m_force, &QCheckBox::toggled, this, &PruneDialog::refreshPreview);
    connect(m_prune, &QPushButton::clicked, this, [this] {
        if (QMessageBox::question(this, windowTitle(), tr("Archive and delete %n event(s)?", nullptr, int(m_wouldGo)))
            == QMessageBox::Yes)
            pruneNow();
    });
    refreshPreview();
}

PruneOptions PruneDialog::options(bool dryRun) const
{
    PruneOptions o;
    o.cutoff = QDateTime::currentDateTimeUtc().addDays(-m_days->value());
    o.includeUnprocessed = m_force->isChecked();
    o.dryRun = dryRun;
    o.actor = u"dm"_s;
    return o;
}

QFuture<Result<PruneReport>> PruneDialog::run(const PruneOptions &o)
{
    return m_retention.prune(o);
}

void PruneDialog::refreshPreview()
{
    m_wouldGo = -1;
    m_prune->setEnabled(false);
    m_preview->setText(tr("Counting…"));
    const int generation = ++m_generation;
    run(options(true)).then(this, [this, generation](const Result<PruneReport> &r) {
        if (generation != m_generation)
            return;  // the DM changed the cutoff meanwhile
        if (!r) {
            m_preview->setText(r.error().message);
            return;
        }
        m_wouldGo = r->matched - r->keptUnprocessed;
        m_preview->setText(tr("%n event(s) would be archived and deleted", nullptr, int(m_wouldGo))
                           + (r->keptUnprocessed ? tr("; %n older one(s) not processed yet stay", nullptr, int(r->keptUnprocessed))
                                                 : QString())
                           + u'.'
                           + (r->ageAlone ? tr(" No event here was ever marked processed, so age alone decides.") : QString()));
        m_prune->setEnabled(m_wouldGo > 0);
    });
}

void PruneDialog::pruneNow()
{
    m_prune->setEnabled(false);
    m_preview->setText(tr("Archiving and deleting…"));
    run(options(false)).then(this, [this](const Result<PruneReport> &r) {
        if (!r) {
            m_preview->setText(r.error().message);
            return;
        }
        m_preview->setText(tr("Deleted %n event(s); archive: %1", nullptr, int(r->deleted)).arg(r->archivePath));
        Q_EMIT pruned(r.value());
    });
}

} // namespace eventdesk
