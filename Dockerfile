FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY . .
RUN useradd --system crm && chown -R crm /app
USER crm
EXPOSE 8000
CMD ["gunicorn", "cloudcore_crm.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3"]
