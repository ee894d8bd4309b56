"""The textbook's four programs (Kurose & Ross style), as students write them, for the tests.

Each is a format string: {port} is the server's port (tests use a free port, never 12000).
"""

UDP_SERVER = """\
from socket import *
serverPort = {port}
serverSocket = socket(AF_INET, SOCK_DGRAM)
serverSocket.bind(('127.0.0.1', serverPort))
print("The server is ready to receive")
while True:
    message, clientAddress = serverSocket.recvfrom(2048)
    modifiedMessage = message.decode().upper()
    serverSocket.sendto(modifiedMessage.encode(), clientAddress)
"""

UDP_CLIENT = """\
from socket import *
serverName = '127.0.0.1'
serverPort = {port}
clientSocket = socket(AF_INET, SOCK_DGRAM)
message = input('Input lowercase sentence:')
clientSocket.sendto(message.encode(), (serverName, serverPort))
modifiedMessage, serverAddress = clientSocket.recvfrom(2048)
print(modifiedMessage.decode())
clientSocket.close()
"""

TCP_SERVER = """\
from socket import *
serverPort = {port}
serverSocket = socket(AF_INET, SOCK_STREAM)
serverSocket.bind(('127.0.0.1', serverPort))
serverSocket.listen(1)
print('The server is ready to receive')
while True:
    connectionSocket, addr = serverSocket.accept()
    sentence = connectionSocket.recv(1024).decode()
    capitalizedSentence = sentence.upper()
    connectionSocket.send(capitalizedSentence.encode())
    connectionSocket.close()
"""

TCP_CLIENT = """\
from socket import *
serverName = '127.0.0.1'
serverPort = {port}
clientSocket = socket(AF_INET, SOCK_STREAM)
clientSocket.connect((serverName, serverPort))
sentence = input('Input lowercase sentence:')
clientSocket.send(sentence.encode())
modifiedSentence = clientSocket.recv(1024)
print('From Server: ', modifiedSentence.decode())
clientSocket.close()
"""

# A variation students write next: the connection stays open for more sentences, and each reply
# is one send() without a newline.
TCP_SERVER_KEEPS_CONNECTION = (
    TCP_SERVER.split("while True:")[0]  # the same start: socket, bind, listen, the ready line
    + """\
while True:
    connectionSocket, addr = serverSocket.accept()
    while True:
        sentence = connectionSocket.recv(1024)
        if not sentence:
            break
        connectionSocket.send(sentence.decode().strip().upper().encode())
    connectionSocket.close()
"""
)

# Programs that ignore every polite way of being stopped.
BLOCKED_IN_RECVFROM = UDP_SERVER
BLOCKED_IN_ACCEPT = """\
from socket import *
s = socket(AF_INET, SOCK_STREAM)
s.bind(('127.0.0.1', {port}))
s.listen(1)
s.accept()
"""
SLEEPING = """\
import time
from socket import *
s = socket(AF_INET, SOCK_DGRAM)
s.bind(('127.0.0.1', {port}))
time.sleep(30)
"""
BARE_EXCEPT_LOOP = """\
from socket import *
s = socket(AF_INET, SOCK_DGRAM)
s.bind(('127.0.0.1', {port}))
s.settimeout(0.001)
print("spinning")
while True:
    try:
        s.recvfrom(2048)
    except:
        pass
"""
