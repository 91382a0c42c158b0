#include "ChallengesDialog.h"
#include "PlainText.h"

#include <QComboBox>
#include <QDialogButtonBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QPushButton>
#include <QSpinBox>
#include <QTableWidget>
#include <QVBoxLayout>

using namespace Qt::StringLiterals;

namespace eventdesk {

namespace {
enum Column { NameColumn, DifficultyColumn, IdColumn, ColumnCount };
}

ChallengesDialog::ChallengesDialog(DeskBook &book, const QStringList &worlds, const QString &world, QWidget *parent)
    : QDialog(parent)
    , m_book(book)
    , m_world(new QComboBox(this))
    , m_table(new QTableWidget(0, ColumnCount, this))
    , m_status(plain::label(new QLabel(this)))
{
    setWindowTitle(tr("Challenges"));
    m_world->setEditable(true);  // a world with no events yet can have challenges too
    m_world->addItems(worlds);
    m_world->setCurrentText(world.isEmpty() && !worlds.isEmpty() ? worlds.first() : world);
    m_world->setMinimumContentsLength(20);
    m_table->setHorizontalHeaderLabels({tr("Name"), tr("Difficulty (DC)"), tr("Id")});
    m_table->horizontalHeader()->setSectionResizeMode(NameColumn, QHeaderView::Stretch);
    m_table->verticalHeader()->hide();
    m_table->setSelectionBehavior(QAbstractItemView::SelectRows);

    auto *add = new QPushButton(tr("&Add"), this);
    auto *remove = new QPushButton(tr("&Remove"), this);
    // Enter in the World box or a name must not add or remove anything by itself.
    add->setAutoDefault(false);
    remove->setAutoDefault(false);
    auto *buttons = new QDialogButtonBox(QDialogButtonBox::Close, this);
    auto *top = new QHBoxLayout;
    top->addWidget(new QLabel(tr("World"), this));
    top->addWidget(m_world, 1);
    auto *row = new QHBoxLayout;
    row->addWidget(add);
    row->addWidget(remove);
    row->addStretch(1);
    row->addWidget(buttons);
    auto *layout = new QVBoxLayout(this);
    layout->addLayout(top);
    layout->addWidget(m_table, 1);
    layout->addWidget(m_status);
    layout->addLayout(row);
    resize(560, 380);

    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    connect(m_world, &QComboBox::currentTextChanged, this, &ChallengesDialog::reload);
    connect(add, &QPushButton::clicked, this, [this] { addChallenge(tr("New challenge"), 12); });
    connect(remove, &QPushButton::clicked, this, &ChallengesDialog::removeSelected);
    connect(m_table, &QTableWidget::itemChanged, this, [this](QTableWidgetItem *item) {
        if (!m_filling && item->column() == NameColumn)
            commitRow(item->row());
    });
    reload();
}

void ChallengesDialog::reload()
{
    const QString world = m_world->currentText().trimmed();
    m_book.challenges(world).then(this, [this, world](const Result<QList<Challenge>> &r) {
        if (world != m_world->currentText().trimmed())
            return;  // the DM picked another world meanwhile
        m_filling = true;
        m_table->setRowCount(0);
        if (!r) {
            m_status->setText(r.error().message);
            m_filling = false;
            return;
        }
        for (const Challenge &c : r.value()) {
            const int row = m_table->rowCount();
            m_table->insertRow(row);
            m_table->setItem(row, NameColumn, new QTableWidgetItem(c.name));
            auto *dc = new QSpinBox(m_table);
            dc->setRange(1, 40);
            dc->setValue(c.difficulty);
            m_table->setCellWidget(row, DifficultyColumn, dc);
            connect(dc, &QSpinBox::valueChanged, this, [this, dc] {
                for (int r = 0; r < m_table->rowCount(); ++r)
                    if (m_table->cellWidget(r, DifficultyColumn) == dc)
                        commitRow(r);
            });
            auto *id = new QTableWidgetItem(c.id);
            id->setFlags(id->flags() & ~Qt::ItemIsEditable);
            m_table->setItem(row, IdColumn, id);
        }
        m_status->setText(world.isEmpty() ? tr("Choose or type a world.")
                                          : tr("%n challenge(s) in %1. Players roll d20 + modifier against the DC.", nullptr,
                                               m_table->rowCount()).arg(world));
        m_filling = false;
    });
}

void ChallengesDialog::addChallenge(const QString &name, int difficulty)
{
    const QString world = m_world->currentText().trimmed();
    if (world.isEmpty()) {
        m_status->setText(tr("Choose or type a world first."));
        return;
    }
    m_book.addChallenge(world, name, difficulty).then(this, [this, world](const Result<Challenge> &r) {
        if (!r) {
            m_status->setText(r.error().message);
            return;
        }
        m_book.audit(u"dm"_s, u"challenge add"_s, u"“%1” DC %2 in %3 (%4)"_s.arg(r->name).arg(r->difficulty).arg(world, r->id));
        reload();
        Q_EMIT changed();
    });
}

void ChallengesDialog::commitRow(int row)
{
    auto *idItem = m_table->item(row, IdColumn);
    auto *nameItem = m_table->item(row, NameColumn);
    auto *dc = qobject_cast<QSpinBox *>(m_table->cellWidget(row, DifficultyColumn));
    if (!idItem || !nameItem || !dc)
        return;
    const QString name = nameItem->text().trimmed();
    if (name.isEmpty() || name.size() > 200) {
        m_status->setText(tr("A challenge needs a name of 1–200 characters."));
        return;
    }
    const Challenge c{idItem->text(), m_world->currentText().trimmed(), name, dc->value()};
    m_book.updateChallenge(c).then(this, [this, c](const Result<bool> &r) {
        if (!r) {
            m_status->setText(r.error().message);
            return;
        }
        m_status->setText(tr("Saved “%1”, DC %2.").arg(c.name).arg(c.difficulty));
        m_book.audit(u"dm"_s, u"challenge edit"_s, u"“%1” DC %2 (%3)"_s.arg(c.name).arg(c.difficulty).arg(c.id));
        Q_EMIT changed();
    });
}

void ChallengesDialog::removeSelected()
{
    const QModelIndexList rows = m_table->selectionModel()->selectedRows();
    for (const QModelIndex &i : rows) {
        const QString id = m_table->item(i.row(), IdColumn)->text();
        const QString name = m_table->item(i.row(), NameColumn)->text();
        m_book.removeChallenge(id).then(this, [this, id, name](const Result<bool> &r) {
            if (!r) {
                m_status->setText(r.error().message);
                return;
            }
            m_book.audit(u"dm"_s, u"challenge remove"_s, u"“%1” (%2)"_s.arg(name, id));
            reload();
            Q_EMIT changed();
        });
    }
}

} // namespace eventdesk
