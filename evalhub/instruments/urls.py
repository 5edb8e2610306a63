from django.urls import path

from evalhub.instruments import views

app_name = "instruments"
urlpatterns = [path("", views.instrument_index, name="index")]
