"""CloudCore's catalogue: three named products and three managed service lines (seed 001)."""

from django.db import migrations

PRODUCTS = [
    ("datavault", "DataVault", "product"),
    ("analytics-pro", "Analytics Pro", "product"),
    ("cloudsync", "CloudSync", "product"),
    ("cloud-hosting", "Cloud Hosting", "service_line"),
    ("managed-services", "Managed Services", "service_line"),
    ("security-compliance", "Security & Compliance", "service_line"),
]


def create_products(apps, schema_editor):
    Product = apps.get_model("customers", "Product")
    for code, name, kind in PRODUCTS:
        Product.objects.get_or_create(code=code, defaults={"name": name, "kind": kind})


def remove_products(apps, schema_editor):
    apps.get_model("customers", "Product").objects.filter(code__in=[p[0] for p in PRODUCTS]).delete()


class Migration(migrations.Migration):
    dependencies = [("customers", "0001_initial")]
    operations = [migrations.RunPython(create_products, remove_products)]
