from django.urls import path

from evalhub.rating import views

app_name = "rating"
urlpatterns = [
    path("s/<slug:crowd_code>/", views.crowd_entry, name="entry"),
    path("s/<slug:crowd_code>/consent/", views.crowd_consent, name="consent"),
    path("s/<slug:crowd_code>/rate/", views.crowd_rate, name="rate"),
    path("s/<slug:crowd_code>/done/", views.crowd_done, name="done"),
    path("rate/<slug:crowd_code>/", views.author_rate, name="author_rate"),
]
