"""A Django application on colcrypt's encrypted types: model fields whose
database type is an encrypted type with its keyring, the table made by
Django's schema editor (what a migration runs), and the ORM's ordinary
work: create, get and filter by equality (exact, in), update, delete,
unique, an aggregate over a cast, values read back as Python types.

    python3 django_app.py HOST PORT DBNAME USER

Prints one "name -> value" line per check; test/t/023_django.pl reads them.
"""
import datetime
import decimal
import sys

import django
from django.conf import settings

host, port, dbname, user = sys.argv[1:5]
settings.configure(
    DATABASES={"default": {"ENGINE": "django.db.backends.postgresql", "HOST": host, "PORT": port,
                           "NAME": dbname, "USER": user}},
    INSTALLED_APPS=[],
    USE_TZ=True,
    DEFAULT_AUTO_FIELD="django.db.models.AutoField",
)
django.setup()

from django.db import DatabaseError, IntegrityError, connection, models, transaction  # noqa: E402
from django.db.models import Count, DecimalField, Sum  # noqa: E402
from django.db.models.functions import Cast  # noqa: E402


class Encrypted:
    """Mixin: the column is colcrypt.<encrypted_type>('<keyring>').  Values
    come back as text (the driver does not know the type's OID): each field
    turns them into its Python type the way the plain field would."""

    encrypted_type = None

    def __init__(self, *args, keyring, **kwargs):
        self.keyring = keyring
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        kwargs["keyring"] = self.keyring
        return name, path, args, kwargs

    def db_type(self, connection):
        return f"colcrypt.{self.encrypted_type}('{self.keyring}')"

    def from_db_value(self, value, expression, connection):
        return None if value is None else self.to_python(value)


class EncryptedCharField(Encrypted, models.CharField):
    encrypted_type = "encrypted_text"


class EncryptedDecimalField(Encrypted, models.DecimalField):
    encrypted_type = "encrypted_numeric"


class EncryptedIntegerField(Encrypted, models.IntegerField):
    encrypted_type = "encrypted_int4"


class EncryptedDateField(Encrypted, models.DateField):
    encrypted_type = "encrypted_date"


class EncryptedJSONField(Encrypted, models.JSONField):
    encrypted_type = "encrypted_jsonb"

    def from_db_value(self, value, expression, connection):
        return models.JSONField.from_db_value(self, value, expression, connection)


class Employee(models.Model):
    email = EncryptedCharField(max_length=200, unique=True, keyring="hr")
    salary = EncryptedDecimalField(max_digits=10, decimal_places=2, keyring="hr")
    level = EncryptedIntegerField(keyring="hr")
    birth = EncryptedDateField(keyring="hr")
    profile = EncryptedJSONField(keyring="hr")

    class Meta:
        app_label = "colcrypt_test"
        db_table = "employee"


def out(name, value):
    print(f"{name} -> {value}")


with connection.schema_editor() as editor:
    editor.create_model(Employee)
with connection.cursor() as cur:
    cur.execute("SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = 'employee'::regclass"
                " AND attname = 'salary'")
    out("column type", cur.fetchone()[0])

Employee.objects.create(email="alice@example.com", salary=decimal.Decimal("91000.50"), level=3,
                        birth=datetime.date(1990, 1, 2), profile={"team": "core", "langs": ["c", "sql"]})
Employee.objects.create(email="bob@example.com", salary=decimal.Decimal("72000.00"), level=2,
                        birth=datetime.date(1985, 6, 30), profile={"team": "ops"})
Employee.objects.create(email="carol@example.com", salary=decimal.Decimal("72000"), level=2,
                        birth=datetime.date(1999, 12, 31), profile={})

alice = Employee.objects.get(email="alice@example.com")
out("get", f"{alice.salary!r} {alice.level!r} {alice.birth!r} {alice.profile!r}")
out("filter salary", ",".join(e.email for e in Employee.objects.filter(salary=decimal.Decimal("72000")).order_by("id")))
out("filter level in", ",".join(e.email for e in Employee.objects.filter(level__in=[3, 9]).order_by("id")))
out("filter birth", Employee.objects.filter(birth=datetime.date(1985, 6, 30)).count())
out("exclude", Employee.objects.exclude(email="bob@example.com").count())
out("group by level", sorted((row["level"], row["n"]) for row in
                             Employee.objects.values("level").annotate(n=Count("id"))))
Employee.objects.filter(email="bob@example.com").update(salary=decimal.Decimal("75000.25"), level=4)
bob = Employee.objects.get(email="bob@example.com")
out("update", f"{bob.salary!r} {bob.level!r}")
total = Employee.objects.aggregate(total=Sum(Cast("salary", DecimalField(max_digits=12, decimal_places=2))))
out("sum over a cast", total["total"])


def create_duplicate(label):
    """Create a second alice@example.com (email is unique); print what the
    database said."""
    try:
        with transaction.atomic():
            Employee.objects.create(email="alice@example.com", salary=decimal.Decimal("1"), level=1,
                                    birth=datetime.date(2000, 1, 1), profile={})
        out(label, "accepted")
    except IntegrityError as e:
        out(label, f"refused {e.__cause__.pgcode}")
    except DatabaseError as e:
        out(label, f"error {getattr(e.__cause__, 'pgcode', None)}")


create_duplicate("unique")
# A role that may write but not decrypt (an ingestion service, say) gets the
# same IntegrityError, not a permission error from describing the key.
with connection.cursor() as cur:
    cur.execute("CREATE ROLE django_writer")
    cur.execute("GRANT SELECT, INSERT ON employee TO django_writer")
    cur.execute("GRANT USAGE ON SEQUENCE employee_id_seq TO django_writer")
    cur.execute("SET ROLE django_writer")
create_duplicate("unique without the decrypt grant")
with connection.cursor() as cur:
    cur.execute("RESET ROLE")
Employee.objects.filter(email="carol@example.com").delete()
out("delete", Employee.objects.count())
with connection.cursor() as cur:
    cur.execute("SELECT DISTINCT (colcrypt.describe(salary)).keyring FROM employee")
    out("stored under", cur.fetchone()[0])
