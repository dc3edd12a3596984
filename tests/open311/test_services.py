"""Open311 discovery, the service list and service definitions, in JSON and XML, in the
language asked for; jurisdiction_id checked; unknown codes answer 404."""

from django.test import TestCase

from tests.open311.helpers import BASE, build_open311_world, children, xml_of

SERVICE_ELEMENTS = ["service_code", "service_name", "description", "metadata", "type", "keywords", "group"]
ATTRIBUTE_ELEMENTS = ["variable", "code", "datatype", "required", "datatype_description", "order", "description"]


class ServiceTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        build_open311_world(cls)

    def test_discovery_names_this_endpoint_and_both_formats(self):
        discovery = self.client.get(f"{BASE}/discovery.json").json()
        self.assertEqual(discovery["endpoints"][0]["url"], "http://testserver/open311/v2")
        self.assertEqual(discovery["endpoints"][0]["specification"], "http://wiki.open311.org/GeoReport_v2")
        self.assertEqual(discovery["endpoints"][0]["formats"], ["text/xml", "application/json"])
        self.assertRegex(discovery["changeset"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d$")
        root = xml_of(self.client.get(f"{BASE}/discovery.xml"))
        self.assertEqual(root.tag, "discovery")
        self.assertEqual([f.text for f in root.find("endpoints/endpoint/formats")], ["text/xml", "application/json"])

    def test_services_are_the_active_categories_with_real_booleans(self):
        services = self.client.get(f"{BASE}/services.json").json()
        self.assertIsInstance(services, list)
        codes = [s["service_code"] for s in services]
        self.assertIn("pothole", codes)
        self.assertNotIn("retired", codes)
        pothole = services[codes.index("pothole")]
        self.assertEqual(list(pothole), SERVICE_ELEMENTS)
        self.assertIs(pothole["metadata"], True)
        self.assertIs(services[codes.index("encroachment")]["metadata"], False)
        self.assertEqual(pothole["type"], "realtime")
        self.assertEqual(pothole["group"], "Đường")

    def test_services_xml_keeps_the_spec_element_order(self):
        root = xml_of(self.client.get(f"{BASE}/services.xml"))
        self.assertEqual(root.tag, "services")
        first = root.find("service")
        self.assertEqual(children(first), SERVICE_ELEMENTS)
        self.assertIn(first.find("metadata").text, ("true", "false"))

    def test_names_follow_the_locale_asked_for(self):
        english = self.client.get(f"{BASE}/services.json?locale=en").json()
        self.assertIn("Pothole", [s["service_name"] for s in english])
        by_header = self.client.get(f"{BASE}/services.json", HTTP_ACCEPT_LANGUAGE="en").json()
        self.assertIn("Pothole", [s["service_name"] for s in by_header])
        vietnamese = self.client.get(f"{BASE}/services.json?locale=vi", HTTP_ACCEPT_LANGUAGE="en").json()
        self.assertIn("Ổ gà", [s["service_name"] for s in vietnamese])

    def test_a_service_definition_lists_its_attributes_in_order(self):
        definition = self.client.get(f"{BASE}/services/pothole.json?locale=en").json()
        self.assertEqual(definition["service_code"], "pothole")
        attributes = definition["attributes"]
        # by the category's order (0, 0, 5), then code; numbered from 1 as the spec's examples
        self.assertEqual([a["code"] for a in attributes], ["depth_cm", "size", "hazards"])
        self.assertEqual([a["order"] for a in attributes], [1, 2, 3])
        depth, size, hazards = attributes
        self.assertEqual(list(size)[:7], ATTRIBUTE_ELEMENTS)
        self.assertIs(size["required"], True)
        self.assertIs(size["variable"], True)
        self.assertEqual(size["datatype"], "singlevaluelist")
        self.assertEqual(size["values"], [{"key": "small", "name": "small"}, {"key": "large", "name": "large"}])
        self.assertEqual(hazards["datatype"], "multivaluelist")
        self.assertEqual(hazards["values"][0], {"key": "water", "name": "Standing water"})
        self.assertEqual(depth["datatype"], "number")
        self.assertEqual(depth["datatype_description"], "A number from 0 to 200.")
        self.assertNotIn("values", depth)

    def test_a_service_definition_in_xml(self):
        root = xml_of(self.client.get(f"{BASE}/services/pothole.xml"))
        self.assertEqual(root.tag, "service_definition")
        self.assertEqual(children(root), ["service_code", "attributes"])
        size = root.find("attributes/attribute[code='size']")
        self.assertEqual(children(size), ATTRIBUTE_ELEMENTS + ["values"])
        self.assertEqual([v.findtext("key") for v in size.findall("values/value")], ["small", "large"])

    def test_an_unknown_or_inactive_service_code_is_404_in_the_format_asked(self):
        for code in ("no-such-thing", "retired"):
            response = self.client.get(f"{BASE}/services/{code}.json")
            self.assertEqual(response.status_code, 404)
            self.assertEqual(response.json()[0]["code"], 404)
            self.assertIn("service_code", response.json()[0]["description"])
        root = xml_of(self.client.get(f"{BASE}/services/no-such-thing.xml"))
        self.assertEqual(root.tag, "errors")
        self.assertEqual(root.findtext("error/code"), "404")

    def test_jurisdiction_id_of_the_operations_center_area_is_accepted(self):
        self.assertEqual(self.client.get(f"{BASE}/services.json?jurisdiction_id=P").status_code, 200)

    def test_an_unknown_jurisdiction_id_is_404(self):
        response = self.client.get(f"{BASE}/services.json?jurisdiction_id=elsewhere.example")
        self.assertEqual(response.status_code, 404)
        self.assertIn("jurisdiction_id", response.json()[0]["description"])

    def test_an_unknown_path_or_format_is_an_open311_404(self):
        self.assertEqual(self.client.get(f"{BASE}/nothing.json").json()[0]["code"], 404)
        self.assertEqual(xml_of(self.client.get(f"{BASE}/services.yaml")).findtext("error/code"), "404")

    def test_a_wrong_method_is_405_with_an_error_document(self):
        response = self.client.post(f"{BASE}/services.json")
        self.assertEqual(response.status_code, 405)
        self.assertEqual(response.json()[0]["code"], 405)

    def test_open_data_reads_allow_any_origin(self):
        response = self.client.get(f"{BASE}/services.json", HTTP_ORIGIN="https://app.example")
        self.assertEqual(response["Access-Control-Allow-Origin"], "*")

    def test_the_developers_page_documents_it_in_both_languages(self):
        vietnamese = self.client.get("/open311/", HTTP_ACCEPT_LANGUAGE="vi")
        self.assertContains(vietnamese, "curl -X POST http://testserver/open311/v2/requests.json")
        self.assertContains(vietnamese, "<code>P</code>")  # the jurisdiction_id
        english = self.client.get("/open311/", HTTP_ACCEPT_LANGUAGE="en")
        self.assertContains(english, "Open311 GeoReport v2 for developers")
