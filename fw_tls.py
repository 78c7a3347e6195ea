import os
from umqtt import MQTTClient
ca = open(os.getenv("CA"), "rb").read()
c = MQTTClient(b'5fbbb784b4ec2202e982e643_868540050954037_0_0_2021011909', "localhost", 18883,
               user=b'5fbbb784b4ec2202e982e643_868540050954037',
               password=b'8001a12405743199b3396943a2ed397286117a9ebab4f5dfda8dd6fafe341d94',
               keepalive=30, ssl=True, ssl_params={'cadata': ca}, reconn=False)
try:
    c.connect()
    print("CONNECTED")
    c.disconnect()
except Exception as e:
    print("FAILED", type(e).__name__, e)
